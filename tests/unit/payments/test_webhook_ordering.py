"""One payment's webhooks are processed one at a time and in order; other payments' at once.

The endpoint gives each event the key of the payment it names (``ordering_key``); the
inbox never hands out an event while an earlier one of its key is pending, so any number
of workers process different payments side by side and one payment's events in turn.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import msgspec

from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.webhook_lookups import MemoryPaymentTenants
from adapters.memory.webhooks import MemoryWebhookInbox
from commerce_core.eventstore import Repository
from commerce_core.payments.ports.webhooks import (
    ReceivedWebhook,
    StoredWebhook,
    WebhookStatus,
    WebhookTranslation,
)
from commerce_core.payments.webhooks.processing import (
    ProcessedWebhook,
    WebhookServices,
    ordering_key,
)
from entrypoints.webhook_worker import WebhookWorker, WorkerOptions
from entrypoints.webhooks import Webhooks

S = WebhookStatus


class Body(msgspec.Struct):
    payment: str
    n: int


class Translator:
    """Reads the payment an event names from a tiny body of our own."""

    def translate(self, payload: bytes) -> WebhookTranslation:
        body = msgspec.json.decode(payload, type=Body)
        return WebhookTranslation(gateway_payment_id=body.payment)


TRANSLATORS = {"stripe": Translator()}


@dataclass(frozen=True)
class Recording(Webhooks):
    """Processing that yields to the other tasks in the middle and records what overlapped."""

    running: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    overlaps: list[str] = field(default_factory=list)
    done: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    fail_once: set[tuple[str, int]] = field(default_factory=set)

    async def process(
        self, event: StoredWebhook, repo: Repository | None = None
    ) -> ProcessedWebhook:
        body = msgspec.json.decode(event.payload, type=Body)
        self.running[body.payment] += 1
        if self.running[body.payment] > 1:
            self.overlaps.append(body.payment)
        try:
            for _ in range(3):  # let every other task run in between
                await asyncio.sleep(0)
            if (body.payment, body.n) in self.fail_once:
                self.fail_once.discard((body.payment, body.n))
                raise RuntimeError("the gateway's answer is not in yet")
            self.done[body.payment].append(body.n)
            return ProcessedWebhook("applied")
        finally:
            self.running[body.payment] -= 1


def recording(clock: FixedClock) -> Recording:
    inbox = MemoryWebhookInbox()
    services = WebhookServices(
        repo=Repository(None),  # type: ignore[arg-type]  # never reached: process is ours
        clock=clock,
        payment_tenants=MemoryPaymentTenants(),
        translators=TRANSLATORS,
    )
    return Recording(inbox, {}, services, clock, RandomIds())


async def receive(hooks: Webhooks, payment: str, n: int, tenant: str | None = None) -> None:
    """Stores an event as the endpoint does: with its payment's ordering key."""
    received = ReceivedWebhook(
        gateway="stripe",
        event_id=f"evt_{payment}_{n}_{tenant}",
        type="payment_intent.succeeded",
        payload=msgspec.json.encode(Body(payment, n)),
        tenant_id=tenant,
    )
    keyed = msgspec.structs.replace(received, ordering_key=ordering_key(TRANSLATORS, received))
    assert await hooks.inbox.add(keyed, id=hooks.ids.new_id(), at=hooks.clock.now())


async def work(worker: WebhookWorker, clock: FixedClock, loops: int) -> None:
    """Several loops claim side by side until nothing is due; then the clock moves on."""
    for _ in range(20):
        while sum(await asyncio.gather(*(worker.run_once() for _ in range(loops)))):
            pass
        clock.advance(timedelta(seconds=5))  # past any backoff
    assert not await worker._inbox.find(status=S.RECEIVED)
    assert not await worker._inbox.find(status=S.FAILED)


async def test_one_payment_s_events_never_overlap_and_keep_their_order() -> None:
    clock = FixedClock()
    hooks = recording(clock)
    payments = [f"pi_{n}" for n in range(4)]
    for n in range(6):
        for payment in payments:
            await receive(hooks, payment, n)
    worker = WebhookWorker(hooks, WorkerOptions(batch_size=8))

    await work(worker, clock, loops=3)

    assert hooks.overlaps == []
    assert dict(hooks.done) == {payment: [0, 1, 2, 3, 4, 5] for payment in payments}


async def test_a_failed_event_never_overlaps_its_payment_s_others_and_does_not_block_them() -> None:
    clock = FixedClock()
    hooks = recording(clock)
    for n in range(5):
        for payment in ("pi_0", "pi_1"):
            await receive(hooks, payment, n)
    hooks.fail_once.update({("pi_0", 1), ("pi_1", 3)})  # retried after a backoff
    worker = WebhookWorker(hooks, WorkerOptions(batch_size=8))

    await work(worker, clock, loops=3)

    assert hooks.overlaps == []
    assert hooks.done["pi_0"] == [0, 2, 3, 4, 1]  # the later ones went on meanwhile
    assert hooks.done["pi_1"] == [0, 1, 2, 4, 3]


async def test_different_payments_are_processed_side_by_side() -> None:
    clock = FixedClock()
    hooks = recording(clock)
    for payment in ("pi_a", "pi_b", "pi_c"):
        await receive(hooks, payment, 0)
        await receive(hooks, payment, 1)
    worker = WebhookWorker(hooks, WorkerOptions(batch_size=10))

    claimed = await worker.run_once()

    assert claimed == 3  # the first of each payment at once; each one's second waits
    assert {p: n for p, n in hooks.done.items()} == {"pi_a": [0], "pi_b": [0], "pi_c": [0]}


async def test_a_tenant_s_own_account_cannot_hold_up_the_platform_s_events_of_a_payment() -> None:
    clock = FixedClock()
    hooks = recording(clock)
    await receive(hooks, "pi_x", 0, tenant="tenant-a")  # names another's payment id
    await receive(hooks, "pi_x", 1)  # the platform's own event about that payment
    worker = WebhookWorker(hooks, WorkerOptions(batch_size=10))

    claimed = await worker.run_once()

    assert claimed == 2  # different keys: the tenant's event does not serialise with it
    assert sorted(hooks.done["pi_x"]) == [0, 1]


def test_the_ordering_key_names_the_payment_and_whose_account_signed() -> None:
    def key(payload: bytes, tenant: str | None = None, gateway: str = "stripe") -> str | None:
        received = ReceivedWebhook(
            gateway=gateway, event_id="evt", type="t", payload=payload, tenant_id=tenant
        )
        return ordering_key(TRANSLATORS, received)

    body = msgspec.json.encode(Body("pi_1", 0))
    assert key(body) == "platform:stripe:pi_1"
    assert key(body, tenant="t1") == "t1:stripe:pi_1"
    assert key(b"{not json") is None  # unreadable: processing says so, it waits for nothing
    assert key(body, gateway="ups") is None  # no translator: nothing to order by
