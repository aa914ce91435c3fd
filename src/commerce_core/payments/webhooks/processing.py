"""Processing one stored gateway event: translate it, find its tenant, record it.

The gateway's adapter translates its event (``WebhookTranslator``) into our
``GatewayEvent``s, a seller account's new state, or nothing to do. The tenant:

- an event from a tenant's own gateway account (``StoredWebhook.tenant_id`` set
  when it was received) concerns that tenant only; one whose metadata names
  another tenant is ignored (a tenant controls its own account's metadata);
- otherwise (the platform's account) the metadata we sent with the payment
  names it; events that carry none (refunds, disputes) are routed by the
  gateway payment id, which earlier platform events with our metadata taught
  ``PaymentTenants``, once the tenant's own ``PaymentReference`` (written by our
  call) confirms it. A tenant's account's events never teach it (``_route``).

A seller account's state is kept on its ``Seller`` (the seller its metadata
names, newest state wins). An account we did not open (no such metadata, or a
seller with another account) is ignored; one naming a seller we do not know yet
waits ``seller_grace`` for our own call to record the seller, then is ignored.

Outcomes: a ``ProcessedWebhook`` (applied, no change, or ignored: a type we do
not handle, a payment or an account that is not ours), ``WebhookNotReadyError`` for an event
that may succeed later (its tenant or payment is not known yet: it arrived
before the event or our own call that records them), ``WebhookFailedError``
when recording failed otherwise (a conflict, a refused command: the cause is
chained; both carry the tenant when known), or ``UnreadableWebhookError``,
which no retry can help. Recording is idempotent
(``record_gateway_event``), so processing an event again changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.marketplace.ports import AccountUpdate
from commerce_core.marketplace.services import AccountUpdateOutcome, record_account_update
from commerce_core.ordering.order import SYSTEM
from commerce_core.payments.loading import load_payment
from commerce_core.payments.payment import PaymentStatus
from commerce_core.payments.ports.webhooks import (
    GatewayEvent,
    GatewayEventKind,
    PaymentTenants,
    ReceivedWebhook,
    StoredWebhook,
    UnreadableWebhookError,
    WebhookFailedError,
    WebhookNotReadyError,
    WebhookTranslation,
    WebhookTranslator,
)
from commerce_core.payments.reference import PaymentReference
from commerce_core.payments.webhooks.events import find_payment_id, record_gateway_event
from commerce_core.shared.context import CommandContext
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.retry import retry_on_conflict

REFUND_GRACE = timedelta(minutes=2)
"""How long an event about one of our refunds (our refund id in its metadata) that the
payment does not know yet waits for our own refund call to record it, before the event
records it under that id. Refunds without our id were made at the gateway: no wait."""

SELLER_GRACE = timedelta(minutes=2)
"""How long an account event naming a seller we do not know waits for our own call
(which opened the account) to record the seller, before it is ignored."""


@dataclass(frozen=True)
class WebhookServices:
    """What processing needs; ``translators`` by gateway name."""

    repo: Repository
    clock: Clock
    payment_tenants: PaymentTenants
    translators: Mapping[str, WebhookTranslator]
    refund_grace: timedelta = REFUND_GRACE
    seller_grace: timedelta = SELLER_GRACE


@dataclass(frozen=True)
class ProcessedWebhook:
    """What processing did (``note``) and for which tenant, if it found one."""

    note: str
    tenant_id: str | None = None


def ordering_key(
    translators: Mapping[str, WebhookTranslator], webhook: ReceivedWebhook
) -> str | None:
    """The key that serialises an event's processing with the others of its payment.

    Events that name one gateway payment are processed one at a time, in the order they
    arrived (ADR 0045; ``WebhookInbox.claim_due``). A tenant's own account signs
    whatever its holder wants, so its events are ordered among themselves only (the key
    names the tenant): they can never hold up the platform's events, or another
    tenant's, about the same payment id.
    """
    translator = translators.get(webhook.gateway)
    if translator is None:
        return None
    try:
        payment = translator.translate(webhook.payload).gateway_payment_id
    except Exception:  # unreadable: processing will say so; meanwhile it waits for nothing
        return None
    if payment is None:
        return None
    return f"{webhook.tenant_id or 'platform'}:{webhook.gateway}:{payment}"


async def process_webhook(services: WebhookServices, webhook: StoredWebhook) -> ProcessedWebhook:
    """Records what the stored event says; see the module's docstring for the outcomes."""
    translator = services.translators.get(webhook.gateway)
    if translator is None:
        raise UnreadableWebhookError(f"no translator for gateway {webhook.gateway!r}")
    meaning = translator.translate(webhook.payload)
    owner = webhook.tenant_id
    if owner is not None and meaning.tenant_id not in (None, owner):
        return ProcessedWebhook("ignored: it names another tenant than its account's", owner)
    if meaning.seller_account is not None:
        return await _record_seller_account(services, webhook, meaning.seller_account)
    tenant_id = await _route(services, webhook.gateway, owner, meaning)
    if meaning.ignored is not None:
        return ProcessedWebhook(f"ignored: {meaning.ignored}", tenant_id)
    if tenant_id is None:
        raise WebhookNotReadyError(
            f"no tenant known yet for {webhook.gateway} payment {meaning.gateway_payment_id}"
        )
    ctx = CommandContext(
        tenant_id=tenant_id,
        actor=SYSTEM,
        correlation_id=f"webhook:{webhook.gateway}:{webhook.event_id}",
        causation_id=str(webhook.id),
    )
    try:
        notes = [await _record(services, ctx, event) for event in meaning.events]
    except WebhookNotReadyError as error:
        error.tenant_id = tenant_id
        raise
    except Exception as error:
        raise WebhookFailedError(f"{type(error).__name__}: {error}", tenant_id) from error
    return ProcessedWebhook("; ".join(notes) or "no change", tenant_id)


async def _record_seller_account(
    services: WebhookServices, webhook: StoredWebhook, update: AccountUpdate
) -> ProcessedWebhook:
    owner = webhook.tenant_id
    tenant_id = owner or update.tenant_id
    if tenant_id is None or update.seller_id is None:
        return ProcessedWebhook(
            "ignored: an account we did not open (no seller metadata)", tenant_id
        )
    ctx = CommandContext(
        tenant_id=tenant_id,
        actor=SYSTEM,
        correlation_id=f"webhook:{webhook.gateway}:{webhook.event_id}",
        causation_id=str(webhook.id),
    )
    try:
        outcome = await retry_on_conflict(
            lambda: record_account_update(services.repo, services.clock, ctx, update)
        )
    except Exception as error:
        raise WebhookFailedError(f"{type(error).__name__}: {error}", tenant_id) from error
    seller = update.seller_id
    if outcome is AccountUpdateOutcome.RECORDED:
        return ProcessedWebhook("seller account updated", tenant_id)
    if outcome is AccountUpdateOutcome.NOT_NEWER:
        return ProcessedWebhook("no change: a newer state is stored", tenant_id)
    if outcome is AccountUpdateOutcome.OTHER_ACCOUNT:
        return ProcessedWebhook(f"ignored: seller {seller} has another account", tenant_id)
    if services.clock.now() - update.as_of < services.seller_grace:
        raise WebhookNotReadyError(
            f"no seller {seller} recorded yet; waiting for our own call", tenant_id
        )
    return ProcessedWebhook(f"ignored: an account we did not open (no seller {seller})", tenant_id)


async def _route(
    services: WebhookServices, gateway: str, owner: str | None, meaning: WebhookTranslation
) -> str | None:
    """The event's tenant: its account's (``owner``), else the one our metadata names,
    else the tenant bound to the gateway payment it names, if our own call confirms it.

    Only the platform's events with our metadata bind a payment to a tenant. A tenant's
    own account signs whatever its holder wants, so its events never bind: otherwise a
    tenant could claim another's payment id first, and the platform's later events about
    that payment (refunds, disputes) would be routed to it. A binding is used only when
    the tenant has the payment's reference, which our own call wrote when it learnt the
    gateway's id; a binding stored before this rule (ADR 0019) is checked the same way.
    """
    if owner is not None:
        return owner
    payment = meaning.gateway_payment_id
    if payment is None or meaning.tenant_id is not None:
        if payment is not None and meaning.tenant_id is not None:
            await services.payment_tenants.remember(gateway, payment, meaning.tenant_id)
        return meaning.tenant_id
    bound = await services.payment_tenants.tenant_of(gateway, payment)
    if bound is None or not await _ours(services.repo, bound, gateway, payment):
        return None
    return bound


async def _ours(repo: Repository, tenant_id: str, gateway: str, gateway_payment_id: str) -> bool:
    reference_id = PaymentReference.id_for(tenant_id, gateway, gateway_payment_id)
    try:
        reference = await repo.get(reference_id, kind=PaymentReference)
    except AggregateNotFoundError:
        return False
    return reference.tenant_id == tenant_id


async def _record(services: WebhookServices, ctx: CommandContext, event: GatewayEvent) -> str:
    try:
        await _check_refund_known(services, ctx, event)
        outcome = await record_gateway_event(services.repo, services.clock, ctx, event)
    except AggregateNotFoundError:
        raise WebhookNotReadyError(
            f"no payment recorded yet for {event.gateway} payment {event.gateway_payment_id}"
        ) from None
    note = "applied" if outcome.applied else "no change"
    if (
        event.kind is GatewayEventKind.PAYMENT_FAILED
        and not outcome.applied
        and outcome.payment.status is PaymentStatus.AUTHORIZED
    ):
        note += " (attention: the gateway ended an authorized payment; void it)"
    if outcome.attention:
        note += f" (attention: {outcome.attention})"
    return note


async def _check_refund_known(
    services: WebhookServices, ctx: CommandContext, event: GatewayEvent
) -> None:
    """An event naming one of our refunds that the payment does not know yet waits (not
    ready) until it is ``refund_grace`` old: our own refund call is usually about to
    record it, with its reason, actor and restock. Once older, our save must have failed
    after the gateway refunded, and the event records it under our id; our command run
    again then finds it done (same refund id), so it never counts twice.

    A refund without our id was made at the gateway (every refund we make carries it)
    and is recorded at once; its gateway refund id keeps its events from counting twice.
    """
    refund_events = (GatewayEventKind.REFUND_SUCCEEDED, GatewayEventKind.REFUND_FAILED)
    if event.kind not in refund_events or event.refund_id is None or event.at is None:
        return
    if services.clock.now() - event.at >= services.refund_grace:
        return
    payment_id = await find_payment_id(services.repo, ctx.tenant_id, event)
    payment = await load_payment(services.repo, ctx.tenant_id, payment_id)
    if any(r.id == event.refund_id for r in payment.refunds):
        return
    raise WebhookNotReadyError(
        f"refund {event.refund_id} is not recorded yet; waiting for our own call"
    )
