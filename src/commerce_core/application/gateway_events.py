"""Gateway events (webhooks), translated by the gateway's adapter, recorded idempotently.

An event names our payment (``payment_id``, from the metadata we sent) or only
the gateway's (``gateway_payment_id``, looked up through ``PaymentReference``).

Idempotent twice over:
- **by event id**: the payment remembers every event id it recorded
  (``Payment.processed_refs``), so a redelivered event records nothing; the
  append's event ids also derive from the event id, so two deliveries racing
  each other store one outcome;
- **by state**: an event records only what the payment and the order lack
  (``payment_sync``), so our own call's answer and the webhook about the same
  change record it once, and events arriving out of order (``dispute_closed``
  before ``dispute_opened``, ``payment_succeeded`` before ``payment_authorized``)
  reach the same outcome.

Money the gateway moved is always recorded on the payment; when the order
cannot follow (cancelled, archived, disputed), the outcome carries a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec

from commerce_core.application import gateway_event_handlers as handlers
from commerce_core.application.context import CommandContext
from commerce_core.application.order_loading import load_ledger, load_order, load_payment
from commerce_core.application.retry import retry_on_conflict
from commerce_core.domain.money import Money
from commerce_core.domain.order import DisputeOutcome
from commerce_core.domain.payment import Payment
from commerce_core.domain.payment_reference import PaymentReference
from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.ports.clock import Clock


class GatewayEventKind(StrEnum):
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_VOIDED = "payment_voided"
    REFUND_SUCCEEDED = "refund_succeeded"
    REFUND_FAILED = "refund_failed"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_CLOSED = "dispute_closed"


class GatewayEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One gateway event in our terms.

    - ``id``: the gateway's event id (deduplication).
    - ``amount``: for ``payment_succeeded`` the payment's **total** captured so
      far (default: all of it); for refunds the refund's amount; for disputes
      the disputed amount (default: all the payment has left).
    - ``code``: the decline or failure code (for a void, the decline of the
      payment's last attempt, if any); for disputes, the reason.
    - ``refund_id`` / ``gateway_refund_id``: which refund. ``refund_id`` is ours
      (the metadata we sent with it); one the payment lacks is recorded under that
      id (the gateway refunded but our save failed). A refund with only a gateway
      refund id we do not know was made at the gateway directly: recorded as new.
    - ``outcome``: how a closed dispute ended.
    - ``at``: when it happened at the gateway (default: now).
    """

    id: str
    kind: GatewayEventKind
    gateway_payment_id: str
    gateway: str = "stripe"
    payment_id: UUID | None = None
    at: datetime | None = None
    amount: Money | None = None
    gateway_fee: Money | None = None
    code: str | None = None
    refund_id: UUID | None = None
    gateway_refund_id: str | None = None
    dispute_id: str | None = None
    outcome: DisputeOutcome | None = None


HANDLERS: dict[GatewayEventKind, handlers.Handler] = {
    GatewayEventKind.PAYMENT_AUTHORIZED: handlers.payment_authorized,
    GatewayEventKind.PAYMENT_SUCCEEDED: handlers.payment_succeeded,
    GatewayEventKind.PAYMENT_FAILED: handlers.payment_failed,
    GatewayEventKind.PAYMENT_VOIDED: handlers.payment_voided,
    GatewayEventKind.REFUND_SUCCEEDED: handlers.refund_succeeded,
    GatewayEventKind.REFUND_FAILED: handlers.refund_failed,
    GatewayEventKind.DISPUTE_OPENED: handlers.dispute_opened,
    GatewayEventKind.DISPUTE_CLOSED: handlers.dispute_closed,
}


@dataclass(frozen=True)
class GatewayEventOutcome:
    """``applied`` is False for a duplicate, or an event the state already reflected."""

    applied: bool
    payment: Payment
    attention: str | None = None


async def find_payment_id(repo: Repository, tenant_id: str, event: GatewayEvent) -> UUID:
    """Our payment id for the event; ``AggregateNotFoundError`` if we have no such payment."""
    if event.payment_id is not None:
        return event.payment_id
    reference_id = PaymentReference.id_for(tenant_id, event.gateway, event.gateway_payment_id)
    try:
        reference = await repo.get(reference_id, kind=PaymentReference)
    except AggregateNotFoundError:
        raise AggregateNotFoundError(reference_id) from None
    if reference.tenant_id != tenant_id:
        raise AggregateNotFoundError(reference_id)
    return reference.payment_id


async def record_gateway_event(
    repo: Repository, clock: Clock, ctx: CommandContext, event: GatewayEvent
) -> GatewayEventOutcome:
    """Records what the event says happened to the payment, its order and its stock."""
    payment_id = await find_payment_id(repo, ctx.tenant_id, event)
    at = event.at or clock.now()
    handle = HANDLERS[GatewayEventKind(event.kind)]

    async def attempt() -> GatewayEventOutcome:
        payment = await load_payment(repo, ctx.tenant_id, payment_id)
        if payment.already_processed(event.id):
            return GatewayEventOutcome(False, payment)
        order = await load_order(repo, ctx.tenant_id, payment.order_id)
        ledger = await load_ledger(repo, order)
        changes = await handle(repo, payment, order, ledger, event, at, ctx.actor)
        recorded = await repo.save(
            payment,
            order,
            ledger,
            *changes.items,
            metadata=ctx.metadata(),
            idempotency_key=f"gateway-event:{event.gateway}:{event.id}",
        )
        return GatewayEventOutcome(bool(recorded), payment, changes.attention)

    return await retry_on_conflict(attempt)
