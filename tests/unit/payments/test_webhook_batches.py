"""The worker's batches (ADR 0049): a claim's payments, orders and stock are read together,
its events processed side by side on those reads, its outcomes written together; and
still each event's outcome is its own, one payment's events go in arrival order, a
conflict costs only its own event a retry, and two workers record each event once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from commerce_core.eventstore import (
    AppendStream,
    EventMetadata,
    RecordedEvent,
    Repository,
    StreamLoad,
)
from commerce_core.inventory.services import ReceiveStock, receive_stock
from commerce_core.payments import services as payments
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.ports.webhooks import StoredWebhook, WebhookOutcome, WebhookStatus
from commerce_core.payments.webhooks.processing import ProcessedWebhook
from entrypoints.webhook_worker import WebhookWorker, WorkerOptions
from entrypoints.webhooks import Webhooks
from tests.unit.payments.test_webhooks import Harness
from tests.unit.shop import FEES, STAFF, Shop, TestEventStore, usd

S = WebhookStatus
P = PaymentStatus


class CountingStore(TestEventStore):
    """Counts the reads (a database's round trips); ``after_reads`` runs once, right after
    the read it is due at."""

    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.after_reads: tuple[int, object] | None = None
        self._inside = False  # the memory store's load_streams is made of load_stream
        self.appends: list[int] = []  # per call: how many appends it stored (append: 1)

    async def append(
        self, streams: Sequence[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        self.appends.append(1)
        return await super().append(streams, metadata)

    async def append_many(
        self, appends: Sequence[tuple[Sequence[AppendStream], EventMetadata]]
    ) -> list[list[RecordedEvent]]:
        self.appends.append(len(appends))
        return await super().append_many(appends)

    async def load_stream(self, stream_id: UUID, to_version: int | None = None) -> StreamLoad:
        self.reads += not self._inside
        return await super().load_stream(stream_id, to_version)

    async def load_streams(self, stream_ids: Sequence[UUID]) -> dict[UUID, StreamLoad]:
        self.reads += 1
        self._inside = True
        try:
            loads = await super().load_streams(stream_ids)
        finally:
            self._inside = False
        if self.after_reads is not None and self.after_reads[0] == self.reads:
            _, hook = self.after_reads
            self.after_reads = None
            await hook()  # type: ignore[operator]
        return loads


class CountingInbox:
    """Counts how the worker writes outcomes (settle, or one mark at a time)."""

    def __init__(self, harness: Harness) -> None:
        self.settles: list[int] = []
        inbox = harness.inbox
        settle = inbox.settle

        async def counted(outcomes: Sequence[WebhookOutcome]) -> set[UUID]:
            self.settles.append(len(outcomes))
            return await settle(outcomes)

        inbox.settle = counted  # type: ignore[method-assign]


async def opened(harness: Harness, sku: str) -> Payment:
    """A payment waiting for 3-D Secure, of an order of two units of ``sku``."""
    await harness.shop.product(sku)
    order = await harness.shop.place((sku, 2))
    command = payments.OpenPayment(order_id=order.id, token="tok_3ds", gateway_name="stripe")
    return (
        await payments.charge_payment(harness.shop.payment_services, STAFF, command, FEES)
    ).payment


def succeeded(harness: Harness, payment: Payment) -> bytes:
    intent = harness.events.intent(payment, "succeeded", amount_received=2000)
    return harness.events.event("payment_intent.succeeded", intent, harness.shop.clock.now())


async def test_a_batch_of_mixed_outcomes_reads_together_and_settles_each_in_one_write() -> None:
    store = CountingStore()
    harness = Harness(Shop(store=store))
    paid = [await opened(harness, f"MUG-{n}") for n in range(3)]
    events, now = harness.events, harness.shop.clock.now()
    ghost = {**events.intent(paid[0], "succeeded"), "id": "pi_ghost"}
    ghost["metadata"] = {**ghost["metadata"], "payment_id": str(UUID(int=1))}  # no such payment
    broken = events.event("refund.created", {"id": "re_1", "payment_intent": "pi_1"}, now)
    customer = events.event("customer.created", {"id": "cus_1", "object": "customer"}, now)
    ids = await harness.deliver(
        *(succeeded(harness, p) for p in paid),
        events.event("payment_intent.succeeded", ghost, now),
        broken,
        customer,
    )
    inbox = CountingInbox(harness)
    store.reads, store.appends = 0, []

    assert await harness.worker.run_once() == 6

    seen = [await harness.stored(id) for id in ids]
    assert [(e.status, e.attempts) for e in seen] == [
        (S.PROCESSED, 1),
        (S.PROCESSED, 1),
        (S.PROCESSED, 1),
        (S.FAILED, 1),
        (S.DEAD, 1),
        (S.PROCESSED, 1),
    ]
    assert [e.note for e in seen[:3]] == ["applied"] * 3
    assert "no payment recorded yet" in (seen[3].last_error or "")
    assert (seen[4].last_error or "").startswith("UnreadableWebhookError")
    assert seen[5].note == "ignored: customer.created is not handled"
    assert inbox.settles == [6]  # one write for the batch's six outcomes
    # payments, then orders and ledgers, then stock: three reads for the batch, and the
    # ghost's lookup of a payment that is not there (the batch found it absent: no read)
    assert store.reads == 3
    assert store.appends == [3]  # the three captures stored together
    for n, payment in enumerate(paid):
        recorded = await harness.shop.payment(payment.id)
        assert (recorded.status, recorded.captured) == (P.CAPTURED, usd(2000))
        assert (await harness.shop.order(recorded.order_id)).paid == usd(2000)
        assert (await harness.shop.levels(f"MUG-{n}")).on_hand == 8


async def test_two_events_of_one_payment_are_recorded_in_arrival_order_not_side_by_side() -> None:
    harness = Harness()
    payment = await opened(harness, "MUG-1")
    other = await opened(harness, "MUG-2")
    events, now = harness.events, harness.shop.clock.now()
    refund = events.refund(payment, "re_dashboard", 700, "succeeded")  # made at the gateway
    captured, refunded, elsewhere = await harness.deliver(
        succeeded(harness, payment),
        events.event("refund.updated", refund, now),
        succeeded(harness, other),
    )

    # two loops claim side by side: neither may take the refund while the capture is claimed
    first = await asyncio.gather(harness.worker.run_once(), harness.worker.run_once())
    second = await harness.worker.run_once()

    assert (sorted(first), second) == ([0, 2], 1)  # the refund waited for the next claim
    stored = [await harness.stored(id) for id in (captured, refunded, elsewhere)]
    assert [(e.status, e.attempts, e.note) for e in stored] == [(S.PROCESSED, 1, "applied")] * 3
    recorded = await harness.shop.payment(payment.id)
    assert (recorded.captured, recorded.refunded) == (usd(2000), usd(700))
    types = await harness.shop.event_types(payment.id)
    assert types[-3:] == ["Captured", "RefundRequested", "RefundSucceeded"]  # in arrival order


async def test_a_conflict_on_one_payment_retries_that_one_and_fails_none_of_the_others() -> None:
    store = CountingStore()
    shop = Shop(store=store)
    harness = Harness(shop)
    paid = [await opened(harness, f"MUG-{n}") for n in range(4)]
    ids = await harness.deliver(*(succeeded(harness, p) for p in paid))

    async def restock() -> None:  # another writer changes MUG-2 after the batch read it
        await receive_stock(shop.repo, shop.clock, STAFF, ReceiveStock(sku="MUG-2", quantity=5))

    store.reads, store.appends = 0, []
    store.after_reads = (3, restock)  # right after the batch's stock read
    await harness.worker.run_once()

    assert store.after_reads is None  # the other writer did write in between
    # the four together (refused: MUG-2's stock moved), then each alone (three stored, MUG-2's
    # refused), then MUG-2's again on fresh state
    assert store.appends == [1, 4, 1, 1, 1, 1, 1]
    stored = [await harness.stored(id) for id in ids]
    assert [(e.status, e.attempts, e.note) for e in stored] == [(S.PROCESSED, 1, "applied")] * 4
    levels = [(await shop.levels(f"MUG-{n}")).on_hand for n in range(4)]
    assert levels == [8, 8, 13, 8]  # MUG-2's receipt kept, and its two units taken once
    for payment in paid:
        recorded = await shop.payment(payment.id)
        assert (recorded.status, recorded.captured) == (P.CAPTURED, usd(2000))


@dataclass(frozen=True)
class Counting(Webhooks):
    """Processing that counts each event it processes."""

    processed: Counter[UUID] = field(default_factory=Counter)

    async def process(
        self, event: StoredWebhook, repo: Repository | None = None
    ) -> ProcessedWebhook:
        self.processed[event.id] += 1
        await asyncio.sleep(0)  # the other worker runs in between
        return await super().process(event, repo)


async def test_two_workers_at_once_record_each_event_exactly_once() -> None:
    harness = Harness()
    paid = [await opened(harness, f"MUG-{n}") for n in range(24)]
    base = harness.worker._webhooks
    hooks = Counting(base.inbox, base.verifiers, base.processing, base.clock, base.ids)
    options = WorkerOptions(batch_size=5)
    workers = [WebhookWorker(hooks, options), WebhookWorker(hooks, options)]
    ids = await harness.deliver(*(succeeded(harness, p) for p in paid))

    while sum(await asyncio.gather(*(w.run_once() for w in workers for _ in range(2)))):
        pass

    assert {(await harness.stored(id)).status for id in ids} == {S.PROCESSED}
    assert hooks.processed == Counter(dict.fromkeys(ids, 1))
    for n, payment in enumerate(paid):
        recorded = await harness.shop.payment(payment.id)
        assert (recorded.status, recorded.captured) == (P.CAPTURED, usd(2000))
        assert (await harness.shop.order(recorded.order_id)).paid == usd(2000)
        assert (await harness.shop.levels(f"MUG-{n}")).on_hand == 8
