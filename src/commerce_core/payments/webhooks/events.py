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
from uuid import UUID

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.payments.loading import load_payment
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.webhooks import GatewayEvent, GatewayEventKind
from commerce_core.payments.reference import PaymentReference
from commerce_core.payments.webhooks import handlers
from commerce_core.payments.webhooks.handlers import EventTarget
from commerce_core.shared.context import CommandContext
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.retry import retry_on_conflict

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
        target = EventTarget(payment, order, ledger)
        changes = await handle(repo, target, event, at, ctx.actor)
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
