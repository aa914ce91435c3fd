"""Stripe webhooks processed from the inbox: every type we handle, twice and in any order,
ends in the same state; what cannot be recorded yet is retried; nothing is lost or doubled
when a worker stops in the middle."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterable, Sequence
from datetime import timedelta
from uuid import UUID

import msgspec
import pytest

from adapters.memory.clock import RandomIds
from adapters.memory.webhook_lookups import MemoryPaymentTenants
from adapters.memory.webhooks import MemoryWebhookInbox
from adapters.payments.stripe_webhooks import StripeWebhooks
from commerce_core.eventstore import AppendStream, EventMetadata, EventStoreError, RecordedEvent
from commerce_core.marketplace.seller import Seller
from commerce_core.ordering.order import OrderStatus
from commerce_core.payments import services as payments
from commerce_core.payments.gateway_refunds import refund_metadata
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.ports.webhooks import StoredWebhook, WebhookStatus
from commerce_core.payments.webhooks.processing import WebhookServices, ordering_key
from commerce_core.shared.command_ids import intent_id
from entrypoints.webhook_worker import RetryPolicy, WebhookWorker, WorkerOptions
from entrypoints.webhooks import Webhooks
from tests.stripe_events import SECRET, StripeEvents, sign
from tests.stripe_story import ROLES, expected_payments, open_seller, story_events, story_state
from tests.unit.shop import FEES, STAFF, TENANT, Shop, TestEventStore, keyed, usd

S = WebhookStatus
P = PaymentStatus


class Harness:
    """A shop, the inbox and a worker on it, and Stripe's side of the conversation."""

    def __init__(self, shop: Shop | None = None, policy: RetryPolicy | None = None) -> None:
        self.shop = shop or Shop()
        self.inbox = MemoryWebhookInbox()
        self.stripe = StripeWebhooks([SECRET])
        self.events = StripeEvents(TENANT)
        processing = WebhookServices(
            repo=self.shop.repo,
            clock=self.shop.clock,
            payment_tenants=MemoryPaymentTenants(),
            translators={"stripe": self.stripe},
        )
        webhooks = Webhooks(
            self.inbox, {"stripe": self.stripe}, processing, self.shop.clock, RandomIds()
        )
        options = WorkerOptions(policy=policy or RetryPolicy())
        self.worker = WebhookWorker(webhooks, options)

    async def payment(self, token: str = "tok_3ds", capture: bool = True) -> Payment:
        """A payment of 2,000 USD for a new order, through "stripe"."""
        order = await self.shop.place(("MUG-1", 2))
        opener = payments.charge_payment if capture else payments.authorize_payment
        shop = self.shop
        command = payments.OpenPayment(order_id=order.id, token=token, gateway_name="stripe")
        result = await opener(shop.payment_services, STAFF, command, FEES)
        return result.payment

    async def deliver(self, *payloads: bytes) -> list[UUID]:
        """Stripe's deliveries, verified and stored as the endpoint stores them."""
        ids = []
        for payload in payloads:
            received = self.stripe.verify(payload, sign(payload, SECRET, int(time.time())))
            key = ordering_key({"stripe": self.stripe}, received)  # as the endpoint does
            received = msgspec.structs.replace(received, ordering_key=key)
            id = self.shop.ids.new_id()
            if await self.inbox.add(received, id=id, at=self.shop.clock.now()):
                ids.append(id)
        return ids

    async def drain(self, rounds: int = 50) -> None:
        """Works until nothing is left to retry, moving the clock to each next attempt."""
        for _ in range(rounds):
            while await self.worker.run_once():
                pass
            waiting = await self.inbox.find(status=S.FAILED)
            if not waiting:
                return
            self.shop.clock.set(min(e.next_attempt_at for e in waiting if e.next_attempt_at))
        raise AssertionError("events are still failing")

    async def stored(self, id: UUID) -> StoredWebhook:
        event = await self.inbox.get(id)
        assert event is not None
        return event


async def told(harness: Harness) -> tuple[dict[str, UUID], list[bytes]]:
    """The story's payments opened in the shop, and its events."""
    await harness.shop.product("MUG-1", price=1000, stock=20)
    await open_seller(harness.shop.repo, TENANT, harness.shop.clock.now())
    opened = {
        "paid": await harness.payment(),
        "declined": await harness.payment(),
        "abandoned": await harness.payment(capture=False),
        "disputed": await harness.payment("tok_visa"),
        "released": await harness.payment("tok_visa", capture=False),
    }
    payloads = story_events(harness.events, opened, harness.shop.clock.now())
    return {role: p.id for role, p in opened.items()}, payloads


async def outcome(harness: Harness, ids: dict[str, UUID]) -> object:
    return await story_state(harness.shop.repo, ids, TENANT)


async def test_the_story_in_order_records_what_stripe_says_happened() -> None:
    harness = Harness()
    ids, payloads = await told(harness)

    await harness.deliver(*payloads)
    await harness.drain()

    states, seller = await story_state(harness.shop.repo, ids, TENANT)
    expected = expected_payments(2000)
    for role in ROLES:
        state = states[role]
        payment = (state.status, state.captured, state.refunded, state.charged_back)
        assert (*payment, state.decline_code, state.dispute, state.refunds) == expected[role]
    assert states["paid"].order_paid == 2000
    assert states["paid"].order_refunded == 500
    assert states["declined"].order_status == OrderStatus.PAYMENT_FAILED
    # voided as by our own void: the orders still owe their total
    assert states["abandoned"].order_status == OrderStatus.PENDING_PAYMENT
    assert states["released"].order_status == OrderStatus.PENDING_PAYMENT
    assert seller == (True, True)
    assert (await harness.inbox.counts()).dead == 0


@pytest.mark.parametrize("seed", range(6))
async def test_the_story_delivered_twice_in_any_order_ends_the_same(seed: int) -> None:
    in_order, shuffled = Harness(), Harness()
    ids, payloads = await told(in_order)
    await in_order.deliver(*payloads)
    await in_order.drain()
    shuffled_ids, shuffled_payloads = await told(shuffled)
    twice = shuffled_payloads * 2
    random.Random(seed).shuffle(twice)

    await shuffled.deliver(*twice)
    await shuffled.drain()

    assert await outcome(shuffled, shuffled_ids) == await outcome(in_order, ids)
    assert (await shuffled.inbox.counts()).dead == 0
    assert len(await shuffled.inbox.find(status=S.PROCESSED, limit=100)) == len(payloads)


async def test_an_event_delivered_again_is_stored_once() -> None:
    harness = Harness()
    await harness.shop.product("MUG-1")
    payment = await harness.payment()
    payload = harness.events.event(
        "payment_intent.succeeded",
        harness.events.intent(payment, "succeeded"),
        harness.shop.clock.now(),
    )

    stored = await harness.deliver(payload, payload)

    assert len(stored) == 1


def types_of(events: Iterable[StoredWebhook]) -> list[str]:
    return sorted(e.type for e in events)


async def test_types_we_do_not_handle_and_payments_not_ours_are_ignored() -> None:
    harness = Harness()
    await harness.shop.product("MUG-1")
    payment = await harness.payment()
    foreign = {**harness.events.intent(payment, "succeeded"), "id": "pi_elsewhere", "metadata": {}}
    now = harness.shop.clock.now()
    [customer, elsewhere] = await harness.deliver(
        harness.events.event("customer.created", {"id": "cus_1", "object": "customer"}, now),
        harness.events.event("payment_intent.succeeded", foreign, now),
    )

    await harness.drain()

    assert (await harness.stored(customer)).note == "ignored: customer.created is not handled"
    note = (await harness.stored(elsewhere)).note or ""
    assert note.startswith("ignored: a PaymentIntent without our metadata")
    assert (await harness.shop.payment(payment.id)).status is P.PENDING


async def test_a_dispute_is_recorded_once_the_payment_s_tenant_is_known() -> None:
    harness = Harness()
    await harness.shop.product("MUG-1")
    payment = await harness.payment("tok_visa")
    events, now = harness.events, harness.shop.clock.now()
    [dispute] = await harness.deliver(
        events.event(
            "charge.dispute.created", events.dispute(payment, "dp_1", "needs_response"), now
        )
    )
    await harness.worker.run_once()
    waiting = await harness.stored(dispute)

    await harness.deliver(
        events.event("payment_intent.created", events.intent(payment, "succeeded"), now)
    )
    await harness.drain()

    unknown = f"no tenant known yet for stripe payment {payment.gateway_payment_id}"
    assert (waiting.status, waiting.last_error) == (S.FAILED, f"WebhookNotReadyError: {unknown}")
    assert (await harness.stored(dispute)).note == "applied"
    assert (await harness.shop.payment(payment.id)).status is P.DISPUTED


async def test_our_own_refund_announced_before_we_recorded_it_waits_and_counts_once() -> None:
    harness = Harness()
    await harness.shop.product("MUG-1")
    payment = await harness.payment("tok_visa")
    ctx = keyed("refund-1")
    events, now = harness.events, harness.shop.clock.now()
    announced = events.refund(payment, "re_fake_000001", 500, "succeeded")  # the fake's first id
    announced["metadata"] = refund_metadata(payment, intent_id(ctx, payment, "refund"))
    [early] = await harness.deliver(events.event("refund.created", announced, now))
    await harness.worker.run_once()
    deferred = await harness.stored(early)

    await harness.shop.refund_payment(payment.id, 500, ctx)
    await harness.drain()

    assert (deferred.status, deferred.tenant_id) == (S.FAILED, TENANT)  # routed by our metadata
    assert "is not recorded yet; waiting for our own call" in (deferred.last_error or "")
    assert (await harness.stored(early)).note == "no change"
    refunded = await harness.shop.payment(payment.id)
    assert (refunded.refunded, len(refunded.refunds)) == (usd(500), 1)
    assert refunded.refunds[0].reason == "requested"  # recorded by our call, not the event


async def test_our_refund_whose_outcome_was_not_saved_is_confirmed_by_its_event_once() -> None:
    harness = Harness()
    shop = harness.shop
    await shop.product("MUG-1")
    payment = await harness.payment("tok_visa")
    ctx = keyed("refund-1")
    shop.store.passing_appends = 1  # the refund and its intent are recorded ...
    shop.store.failing_appends = 1
    with pytest.raises(EventStoreError):
        await shop.refund_payment(payment.id, 500, ctx)  # ... Stripe refunded; our save failed
    events, now = harness.events, shop.clock.now()
    refund = events.refund(payment, "re_fake_000001", 500, "succeeded")
    refund["metadata"] = shop.gateway.refund_metadata("re_fake_000001")
    [event] = await harness.deliver(events.event("refund.updated", refund, now))
    await harness.worker.run_once()

    retried = await shop.refund_payment(payment.id, 500, ctx)  # the client tries again

    assert (await harness.stored(event)).note == "applied"  # the refund was known: at once
    assert str(retried.id) == refund["metadata"]["refund_id"]
    recorded = await shop.payment(payment.id)
    assert (recorded.refunded, len(recorded.refunds)) == (usd(500), 1)
    assert recorded.open_effects == []  # the retry finished the intent
    assert (await shop.order(payment.order_id)).refunded == usd(500)
    assert (await shop.gateway.retrieve(payment.gateway_payment_id or "")).refunded == usd(500)


async def test_a_refund_made_in_stripe_s_dashboard_is_recorded_at_once() -> None:
    harness = Harness()
    await harness.shop.product("MUG-1")
    payment = await harness.payment("tok_visa")
    events, now = harness.events, harness.shop.clock.now()
    refund = events.refund(payment, "re_dashboard", 700, "succeeded")  # no metadata of ours
    [_, event] = await harness.deliver(
        events.event("payment_intent.created", events.intent(payment, "succeeded"), now),
        events.event("refund.updated", refund, now),
    )

    await harness.drain()

    stored = await harness.stored(event)
    assert (stored.note, stored.attempts, harness.shop.clock.now()) == ("applied", 1, now)
    recorded = await harness.shop.payment(payment.id)
    assert (recorded.refunded, recorded.refunds[0].reason) == (usd(700), "refunded at the gateway")


@pytest.mark.parametrize("token", ["tok_visa", "tok_3ds"], ids=["authorized", "awaiting-3ds"])
async def test_a_payment_stripe_cancels_is_voided_and_its_order_still_owes(token: str) -> None:
    harness = Harness()
    await harness.shop.product("MUG-1")
    payment = await harness.payment(token, capture=False)
    events, now = harness.events, harness.shop.clock.now()
    canceled = events.intent(payment, "canceled", cancellation_reason="automatic")
    [event] = await harness.deliver(events.event("payment_intent.canceled", canceled, now))

    await harness.drain()

    assert (await harness.stored(event)).note == "applied"
    voided = await harness.shop.payment(payment.id)
    assert (voided.status, voided.decline_code) == (P.VOIDED, None)
    assert (await harness.shop.order(payment.order_id)).status is OrderStatus.PENDING_PAYMENT


async def a_seller(harness: Harness, account_id: str = "acct_1") -> Seller:
    seller = Seller.open(TENANT, "seller-1", "stripe", account_id, "GB", harness.shop.clock.now())
    await harness.shop.repo.save(seller, metadata=STAFF.metadata())
    return seller


async def seller_of(harness: Harness) -> Seller:
    return await harness.shop.repo.get(Seller.id_for(TENANT, "seller-1"), kind=Seller)


async def test_an_older_account_state_arriving_late_does_not_win() -> None:
    harness = Harness()
    await a_seller(harness)
    events, now = harness.events, harness.shop.clock.now()
    newer = events.event(
        "account.updated",
        events.account("acct_1", True, True, "seller-1"),
        now + timedelta(seconds=5),
    )
    older = events.event("account.updated", events.account("acct_1", False, False, "seller-1"), now)
    [first, late] = await harness.deliver(newer, older)

    await harness.drain()

    assert (await harness.stored(first)).note == "seller account updated"
    assert (await harness.stored(late)).note == "no change: a newer state is stored"
    seller = await seller_of(harness)
    assert (seller.charges_enabled, seller.payouts_enabled, seller.requirements_due) == (
        True,
        True,
        (),
    )
    assert seller.state_event_id == "evt_000001"


async def test_an_account_we_did_not_open_is_ignored_with_a_note() -> None:
    harness = Harness()
    await a_seller(harness)
    events, now = harness.events, harness.shop.clock.now()
    [elsewhere, other_account] = await harness.deliver(
        events.event("account.updated", events.account("acct_1", True, True), now),
        events.event("account.updated", events.account("acct_2", True, True, "seller-1"), now),
    )

    await harness.drain()

    stored = await harness.stored(elsewhere)
    assert (stored.status, stored.note) == (
        S.PROCESSED,
        "ignored: an account we did not open (no seller metadata)",
    )
    assert (await harness.stored(other_account)).note == (
        "ignored: seller seller-1 has another account"
    )
    assert not (await seller_of(harness)).charges_enabled


async def test_an_account_of_a_seller_not_recorded_yet_waits_for_our_own_call() -> None:
    harness = Harness()
    events, clock = harness.events, harness.shop.clock
    enabled = events.account("acct_1", True, False, "seller-1")
    [early] = await harness.deliver(events.event("account.updated", enabled, clock.now()))
    await harness.worker.run_once()
    waiting = await harness.stored(early)

    await a_seller(harness)  # our onboarding call saves the seller it opened the account for
    await harness.drain()

    assert waiting.status is S.FAILED
    assert "no seller seller-1 recorded yet" in (waiting.last_error or "")
    assert (await harness.stored(early)).note == "seller account updated"
    assert (await seller_of(harness)).charges_enabled


async def test_an_account_of_a_seller_never_recorded_is_ignored_after_the_grace() -> None:
    harness = Harness()
    events, clock = harness.events, harness.shop.clock
    stranger = events.account("acct_1", True, True, "nobody")
    [event] = await harness.deliver(events.event("account.updated", stranger, clock.now()))

    await harness.drain()

    stored = await harness.stored(event)
    assert (stored.status, stored.note) == (
        S.PROCESSED,
        "ignored: an account we did not open (no seller nobody)",
    )
    assert clock.now() - stored.received_at >= timedelta(minutes=2)


async def test_a_tenant_s_own_account_cannot_update_another_tenant_s_seller() -> None:
    harness = Harness()
    await a_seller(harness)
    events, now = harness.events, harness.shop.clock.now()
    enabled = events.event("account.updated", events.account("acct_1", True, True, "seller-1"), now)

    forged = await deliver_from_account(harness, "tenant-2", enabled)
    await harness.drain()

    assert (await harness.stored(forged)).note == (
        "ignored: it names another tenant than its account's"
    )
    assert not (await seller_of(harness)).charges_enabled


async def test_an_unreadable_event_dies_at_once() -> None:
    harness = Harness()
    now = harness.shop.clock.now()
    broken = harness.events.event("refund.created", {"id": "re_1", "payment_intent": "pi_1"}, now)
    [event] = await harness.deliver(broken)

    await harness.worker.run_once()

    stored = await harness.stored(event)
    assert (stored.status, stored.attempts) == (S.DEAD, 1)
    assert (stored.last_error or "").startswith("UnreadableWebhookError")


async def test_an_event_that_keeps_failing_backs_off_then_dies() -> None:
    policy = RetryPolicy(max_attempts=4, first_delay=1.0, factor=3.0)
    harness = Harness(policy=policy)
    await harness.shop.product("MUG-1")
    payment = await harness.payment()
    events, clock = harness.events, harness.shop.clock
    ghost = events.intent(payment, "succeeded")
    ghost["metadata"] = {**ghost["metadata"], "payment_id": str(UUID(int=1))}  # no such payment
    [event] = await harness.deliver(events.event("payment_intent.succeeded", ghost, clock.now()))
    waits = []
    for _ in range(policy.max_attempts):
        await harness.worker.run_once()
        stored = await harness.stored(event)
        if stored.next_attempt_at is not None:
            waits.append((stored.next_attempt_at - clock.now()).total_seconds())
            clock.set(stored.next_attempt_at)

    stored = await harness.stored(event)
    assert waits == [1.0, 3.0, 9.0]
    assert (stored.status, stored.attempts) == (S.DEAD, 4)
    assert "no payment recorded yet" in (stored.last_error or "")


class HeldStore(TestEventStore):
    """An event store whose next append waits at a gate, before or after it is stored."""

    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.hold: str | None = None  # "before" or "after" the append
        self.held = asyncio.Event()
        self.gate = asyncio.Event()

    async def append(
        self, streams: Sequence[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        hold, self.hold = self.hold, None
        if hold == "before":
            self.held.set()
            await self.gate.wait()
        recorded = await super().append(list(streams), metadata)
        if hold == "after":
            self.held.set()
            await self.gate.wait()
        return recorded


@pytest.mark.parametrize("moment", ["before", "after"])
async def test_a_worker_stopped_between_claim_and_outcome_loses_and_doubles_nothing(
    moment: str,
) -> None:
    store = HeldStore()
    shop = Shop(store=store)
    harness = Harness(shop)
    await shop.product("MUG-1")
    payment = await harness.payment()
    events = harness.events
    succeeded = events.intent(payment, "succeeded", amount_received=2000)
    [event] = await harness.deliver(
        events.event("payment_intent.succeeded", succeeded, shop.clock.now())
    )
    store.hold = moment
    worker = asyncio.create_task(harness.worker.run_once())
    await asyncio.wait_for(store.held.wait(), timeout=5.0)

    worker.cancel()  # the process stops: its claim is never settled
    with pytest.raises(asyncio.CancelledError):
        await worker
    stopped = await harness.stored(event)
    recorded_before = (await shop.payment(payment.id)).captured
    shop.clock.advance(timedelta(seconds=harness.worker.options.lease))
    await harness.drain()

    assert (stopped.status, stopped.attempts) == (S.RECEIVED, 1)
    assert recorded_before == (usd(0) if moment == "before" else usd(2000))
    finished = await harness.stored(event)
    assert (finished.status, finished.attempts) == (S.PROCESSED, 2)
    assert finished.note == ("applied" if moment == "before" else "no change")
    paid = await shop.payment(payment.id)
    assert (paid.status, paid.captured) == (P.CAPTURED, usd(2000))
    assert (await shop.order(paid.order_id)).paid == usd(2000)
    assert (await shop.levels("MUG-1")).on_hand == 8


async def test_a_worker_stopped_in_the_middle_of_a_batch_loses_and_doubles_nothing() -> None:
    store = HeldStore()
    shop = Shop(store=store)
    harness = Harness(shop)
    await shop.product("MUG-1", stock=20)
    opened = [await harness.payment() for _ in range(4)]
    events = harness.events
    deliveries = [
        events.event(
            "payment_intent.succeeded",
            events.intent(payment, "succeeded", amount_received=2000),
            shop.clock.now(),
        )
        for payment in opened
    ]
    stored = await harness.deliver(*deliveries)
    store.hold = "after"  # the first capture to be stored waits there, its outcome unsaved
    worker = asyncio.create_task(harness.worker.run_once())
    await asyncio.wait_for(store.held.wait(), timeout=5.0)

    worker.cancel()  # the process stops with the batch half done
    with pytest.raises(asyncio.CancelledError):
        await worker
    left = [e for e in [await harness.stored(id) for id in stored] if e.status != S.PROCESSED]
    shop.clock.advance(timedelta(seconds=harness.worker.options.lease))
    await harness.drain()

    assert left  # at least the held one was claimed and never settled
    assert {(await harness.stored(id)).status for id in stored} == {S.PROCESSED}
    for payment in opened:
        paid = await shop.payment(payment.id)
        assert (paid.status, paid.captured) == (P.CAPTURED, usd(2000))
        assert (await shop.order(paid.order_id)).paid == usd(2000)
    assert (await shop.levels("MUG-1")).on_hand == 20 - 2 * len(opened)


async def deliver_from_account(harness: Harness, owner: str, payload: bytes) -> UUID:
    """A delivery from a tenant's own Stripe account, received on its endpoint."""
    received = harness.stripe.verify(payload, sign(payload, SECRET, int(time.time())))
    id = harness.shop.ids.new_id()
    owned = msgspec.structs.replace(received, tenant_id=owner)
    assert await harness.inbox.add(owned, id=id, at=harness.shop.clock.now())
    return id


async def test_an_event_from_a_tenant_s_own_account_concerns_that_tenant_only() -> None:
    harness = Harness()
    await harness.shop.product("MUG-1")
    payment = await harness.payment("tok_visa")
    events, now = harness.events, harness.shop.clock.now()
    refund = events.refund(payment, "re_1", 300, "succeeded")
    claims_other = events.event("refund.updated", {**refund, "metadata": {"tenant_id": "t2"}}, now)
    disputed = events.dispute(payment, "dp_1", "needs_response")

    forged = await deliver_from_account(harness, "tenant-2", claims_other)
    dispute = await deliver_from_account(  # no event of the payment taught us its tenant
        harness, TENANT, events.event("charge.dispute.created", disputed, now)
    )
    await harness.drain()

    note = (await harness.stored(forged)).note
    assert note == "ignored: it names another tenant than its account's"
    assert (await harness.stored(dispute)).note == "applied"
    recorded = await harness.shop.payment(payment.id)
    assert (recorded.status, recorded.refunded) == (P.DISPUTED, usd(0))


async def test_a_refund_that_only_released_an_authorization_is_ignored() -> None:
    harness = Harness()
    await harness.shop.product("MUG-1")
    payment = await harness.payment("tok_visa", capture=False)
    events, now = harness.events, harness.shop.clock.now()
    release = events.refund(payment, "re_release", 2000, "succeeded")
    release["reason"] = "expired_uncaptured_charge"
    [_, refund] = await harness.deliver(
        events.event("payment_intent.created", events.intent(payment, "requires_capture"), now),
        events.event("refund.created", release, now),
    )

    await harness.drain()

    assert (await harness.stored(refund)).note == "ignored: a released authorization"
    recorded = await harness.shop.payment(payment.id)
    assert (recorded.status, recorded.refunds) == (P.AUTHORIZED, [])
