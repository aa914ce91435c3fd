"""Reading what a batch of gateway events will need, together (ADR 0049).

Recording one payment event reads its payment, then the payment's order and ledger, then
the order's stock: one round trip each, per event. A worker that claimed a batch reads
them for the whole batch instead, stage by stage (each stage needs what the one before
found): the payments (or, for events naming only the gateway's payment, their
references), then the orders and ledgers, then the stock. Three reads for the batch; each
event is then processed as before on a ``Preloaded`` view of them, so what is missing or
guessed wrong is read as before, and each event's append still checks the versions it
read: a batch read that another writer overtook costs that event a retry, never a wrong
outcome. Processing is unchanged; only where its first reads come from. The payments'
tenants it will remember are remembered first, side by side (one insert), so that an
event's processing runs from its first read to its append without waiting on anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.eventstore.preloaded import BatchReads
from commerce_core.inventory.stock_streams import order_stock_streams
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.order import Order
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.webhooks import (
    PaymentTenants,
    StoredWebhook,
    WebhookTranslator,
)
from commerce_core.payments.reference import PaymentReference


async def preload_batch(
    repo: Repository,
    translators: Mapping[str, WebhookTranslator],
    tenants: PaymentTenants,
    webhooks: Sequence[StoredWebhook],
) -> dict[UUID, Repository]:
    """A repository per webhook id (of those naming a payment of a known tenant), each
    answering its event's first reads from reads made once for the whole batch; and the
    payments' tenants that processing will remember, remembered now, side by side."""
    wanted, bindings = _payments_named(translators, webhooks)
    await asyncio.gather(*(tenants.remember(*binding) for binding in bindings))
    if not wanted:
        return {}
    reads = BatchReads(repo)
    await reads.read(stream for _, stream in wanted.values())
    payments: dict[UUID, tuple[str, UUID]] = {}  # webhook id -> tenant, payment id
    for webhook_id, (tenant_id, stream_id) in wanted.items():
        reference = reads.peek(stream_id, PaymentReference)
        payment_id = reference.payment_id if reference is not None else stream_id
        payments[webhook_id] = (tenant_id, payment_id)
    await reads.read(  # the payments found through their references, orders and ledgers
        stream
        for tenant_id, payment_id in payments.values()
        for stream in _order_streams(reads, tenant_id, payment_id)
    )
    await reads.read(
        stream
        for tenant_id, payment_id in payments.values()
        for stream in _stock_streams(reads, tenant_id, payment_id)
    )
    return {webhook_id: reads.view() for webhook_id in wanted}


def _payments_named(
    translators: Mapping[str, WebhookTranslator], webhooks: Sequence[StoredWebhook]
) -> tuple[dict[UUID, tuple[str, UUID]], list[tuple[str, str, str]]]:
    """Per webhook: its tenant and the stream that finds its payment (the payment, or its
    reference). Events of unknown tenant, or that name none, are left to processing.
    And the bindings (gateway, gateway payment, tenant) that processing remembers: those
    of the platform's payment events with our metadata (``processing._route``)."""
    wanted: dict[UUID, tuple[str, UUID]] = {}
    bindings: list[tuple[str, str, str]] = []
    for webhook in webhooks:
        translator = translators.get(webhook.gateway)
        if translator is None:
            continue
        try:
            meaning = translator.translate(webhook.payload)
        except Exception:  # processing says why, and the event dies there
            continue
        payment, named = meaning.gateway_payment_id, meaning.tenant_id
        if webhook.tenant_id is None and meaning.seller_account is None and payment and named:
            bindings.append((webhook.gateway, payment, named))
        tenant_id = webhook.tenant_id or meaning.tenant_id
        if tenant_id is None or not meaning.events:
            continue
        event = meaning.events[0]
        stream = event.payment_id or PaymentReference.id_for(
            tenant_id, event.gateway, event.gateway_payment_id
        )
        wanted[webhook.id] = (tenant_id, stream)
    return wanted, bindings


def _order_streams(reads: BatchReads, tenant_id: str, payment_id: UUID) -> list[UUID]:
    payment = reads.peek(payment_id, Payment)
    if payment is None:
        return [payment_id]  # found through its reference: its order is read later
    if payment.tenant_id != tenant_id:
        return []
    return [payment.order_id, OrderLedger.id_for(payment.order_id)]


def _stock_streams(reads: BatchReads, tenant_id: str, payment_id: UUID) -> list[UUID]:
    payment = reads.peek(payment_id, Payment)
    order = None if payment is None else reads.peek(payment.order_id, Order)
    if order is None or order.tenant_id != tenant_id:
        return []
    return order_stock_streams(tenant_id, [line.sku for line in order.lines])
