"""The webhook ports' contract (inbox, payment tenants), for every adapter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from adapters.memory.webhook_lookups import MemoryPaymentTenants
from adapters.memory.webhooks import MemoryWebhookInbox
from adapters.postgres.webhook_lookups import PostgresPaymentTenants
from adapters.postgres.webhooks import PostgresWebhookInbox
from commerce_core.payments.ports.webhooks import (
    PaymentTenants,
    ReceivedWebhook,
    StoredWebhook,
    WebhookInbox,
    WebhookOutcome,
    WebhookStatus,
)
from tests.conftest import PgSchema

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEASE = 60.0
S = WebhookStatus


@dataclass
class Stores:
    inbox: WebhookInbox
    tenants: PaymentTenants


@pytest.fixture(params=["memory", "postgres"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    if request.param == "memory":
        yield Stores(MemoryWebhookInbox(), MemoryPaymentTenants())
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=10)
    try:
        yield Stores(PostgresWebhookInbox(pool), PostgresPaymentTenants(pool))
    finally:
        await pool.close()
        await schema.drop()


@pytest.fixture
def inbox(stores: Stores) -> WebhookInbox:
    return stores.inbox


def webhook(
    event_id: str = "evt_1", gateway: str = "stripe", tenant: str | None = None
) -> ReceivedWebhook:
    payload = f'{{"id": "{event_id}", "type": "charge.succeeded"}}'.encode()
    return ReceivedWebhook(
        gateway=gateway,
        event_id=event_id,
        type="charge.succeeded",
        payload=payload,
        tenant_id=tenant,
    )


async def add(
    inbox: WebhookInbox, event_id: str = "evt_1", at: datetime = AT, **kw: str
) -> uuid.UUID:
    id = uuid.uuid4()
    assert await inbox.add(webhook(event_id, **kw), id=id, at=at)
    return id


async def claim(
    inbox: WebhookInbox, at: datetime = AT, limit: int = 10
) -> tuple[uuid.UUID, list[StoredWebhook]]:
    token = uuid.uuid4()
    return token, await inbox.claim_due(at=at, limit=limit, lease=LEASE, claim=token)


def later(seconds: float) -> datetime:
    return AT + timedelta(seconds=seconds)


async def test_an_event_is_stored_once_per_gateway_and_event_id(inbox: WebhookInbox) -> None:
    first = await add(inbox, "evt_1")

    again = await inbox.add(webhook("evt_1"), id=uuid.uuid4(), at=later(1))
    other_gateway = await inbox.add(webhook("evt_1", gateway="other"), id=uuid.uuid4(), at=AT)

    assert (again, other_gateway) == (False, True)
    stored = await inbox.get(first)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.received_at) == (S.RECEIVED, 0, AT)
    assert b'"evt_1"' in stored.payload


async def test_a_claim_takes_due_events_oldest_first_and_counts_the_attempt(
    inbox: WebhookInbox,
) -> None:
    first = await add(inbox, "evt_1", at=AT)
    second = await add(inbox, "evt_2", at=later(1))
    await add(inbox, "evt_3", at=later(5))

    token, claimed = await claim(inbox, at=later(2))

    assert [e.id for e in claimed] == [first, second]
    assert all(e.claim == token and e.attempts == 1 for e in claimed)


async def test_a_claimed_event_is_not_claimed_again_while_its_lease_runs(
    inbox: WebhookInbox,
) -> None:
    await add(inbox)
    await claim(inbox)

    _, during = await claim(inbox, at=later(LEASE - 1))
    _, after = await claim(inbox, at=later(LEASE))

    assert (len(during), len(after)) == (0, 1)
    assert after[0].attempts == 2


async def test_concurrent_claimers_never_share_an_event(stores: Stores) -> None:
    inbox = stores.inbox
    ids = {await add(inbox, f"evt_{n}") for n in range(120)}
    claimed: list[uuid.UUID] = []

    async def claimer() -> None:
        while batch := (await claim(inbox, limit=7))[1]:
            claimed.extend(e.id for e in batch)
            await asyncio.sleep(0)

    await asyncio.gather(*(claimer() for _ in range(6)))

    assert sorted(claimed) == sorted(ids)


async def test_only_the_current_claim_may_mark_the_outcome(inbox: WebhookInbox) -> None:
    id = await add(inbox)
    stale, _ = await claim(inbox)
    current, _ = await claim(inbox, at=later(LEASE))

    refused = await inbox.mark_processed(id, stale, at=later(LEASE + 1), note="applied")
    accepted = await inbox.mark_processed(id, current, at=later(LEASE + 1), note="applied")

    assert (refused, accepted) == (False, True)


async def test_a_processed_event_keeps_its_note_and_tenant_and_is_never_claimed_again(
    inbox: WebhookInbox,
) -> None:
    id = await add(inbox)
    token, _ = await claim(inbox)

    await inbox.mark_processed(id, token, at=later(1), note="applied", tenant_id="t1")

    stored = await inbox.get(id)
    assert stored is not None
    assert (stored.status, stored.note, stored.tenant_id) == (S.PROCESSED, "applied", "t1")
    assert (stored.processed_at, stored.claim, stored.next_attempt_at) == (later(1), None, None)
    assert (await claim(inbox, at=later(10_000)))[1] == []


async def test_a_batch_s_outcomes_are_settled_together_each_only_while_its_claim_holds(
    inbox: WebhookInbox,
) -> None:
    done, failed, dead, taken = [await add(inbox, f"evt_{n}") for n in range(4)]
    stale, _ = await claim(inbox)
    current, _ = await claim(inbox, at=later(LEASE))  # all four again: the leases ran out
    mine = [
        WebhookOutcome(
            id=done, claim=current, status=S.PROCESSED, note="applied", processed_at=later(61)
        ),
        WebhookOutcome(
            id=failed,
            claim=current,
            status=S.FAILED,
            error="not ready",
            next_attempt_at=later(90),
            tenant_id="t1",
        ),
        WebhookOutcome(
            id=dead, claim=current, status=S.DEAD, error="unreadable", processed_at=later(61)
        ),
    ]
    late = WebhookOutcome(id=taken, claim=stale, status=S.PROCESSED, note="applied")

    settled = await inbox.settle([*mine, late])

    assert settled == {done, failed, dead}
    assert await inbox.settle([]) == set()
    rows = {id: await inbox.get(id) for id in (done, failed, dead, taken)}
    seen = {
        id: (e.status, e.note, e.last_error, e.next_attempt_at, e.tenant_id, e.claim)
        for id, e in rows.items()
        if e is not None
    }
    assert seen == {
        done: (S.PROCESSED, "applied", None, None, None, None),
        failed: (S.FAILED, None, "not ready", later(90), "t1", None),
        dead: (S.DEAD, None, "unreadable", None, None, None),
        taken: (S.RECEIVED, None, None, later(2 * LEASE), None, current),
    }
    assert [e.id for e in (await claim(inbox, at=later(90)))[1]] == [failed]


async def test_a_failed_event_is_due_again_at_its_next_attempt(inbox: WebhookInbox) -> None:
    id = await add(inbox)
    token, _ = await claim(inbox)

    await inbox.mark_failed(id, token, error="payment not found", next_attempt_at=later(30))

    stored = await inbox.get(id)
    assert stored is not None
    assert (stored.status, stored.last_error, stored.attempts) == (S.FAILED, "payment not found", 1)
    assert (await claim(inbox, at=later(29)))[1] == []
    assert [e.id for e in (await claim(inbox, at=later(30)))[1]] == [id]


async def test_a_dead_event_waits_for_an_operator_to_retry_it(inbox: WebhookInbox) -> None:
    id = await add(inbox)
    token, _ = await claim(inbox)
    await inbox.mark_dead(id, token, at=later(1), error="unreadable")
    assert (await claim(inbox, at=later(10_000)))[1] == []

    assert await inbox.retry(id, at=later(2))

    stored = await inbox.get(id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.last_error) == (S.RECEIVED, 0, "unreadable")
    assert [e.id for e in (await claim(inbox, at=later(2)))[1]] == [id]


async def test_only_failed_or_dead_events_can_be_retried(inbox: WebhookInbox) -> None:
    waiting = await add(inbox, "evt_1")
    done = await add(inbox, "evt_2")
    token, _ = await claim(inbox)
    await inbox.mark_processed(done, token, at=later(1), note="applied")

    assert not await inbox.retry(waiting, at=later(2))
    assert not await inbox.retry(done, at=later(2))
    assert not await inbox.retry(uuid.uuid4(), at=later(2))


async def test_find_lists_newest_first_by_status_and_tenant_in_pages(inbox: WebhookInbox) -> None:
    ids = [await add(inbox, f"evt_{n}", tenant="t1") for n in range(5)]
    await add(inbox, "evt_other", tenant="t2")
    token, claimed = await claim(inbox, limit=2)
    for event in claimed:
        await inbox.mark_failed(event.id, token, error="x", next_attempt_at=later(60))

    first_page = await inbox.find(tenant_id="t1", limit=3)
    second_page = await inbox.find(tenant_id="t1", limit=3, before=first_page[-1].seq)
    failed = await inbox.find(status=S.FAILED)

    assert [e.id for e in first_page + second_page] == ids[::-1]
    assert [e.id for e in failed] == ids[1::-1]


async def test_counts_show_what_waits_failed_and_died(inbox: WebhookInbox) -> None:
    first = await add(inbox, "evt_1", at=AT)
    second = await add(inbox, "evt_2", at=later(1))
    await add(inbox, "evt_3", at=later(2))
    token, _ = await claim(inbox, at=later(2), limit=2)
    await inbox.mark_failed(first, token, error="x", next_attempt_at=later(60))
    await inbox.mark_dead(second, token, at=later(3), error="y")

    counts = await inbox.counts()

    assert (counts.received, counts.failed, counts.dead) == (1, 1, 1)
    assert counts.oldest_pending_at == AT


async def test_purging_drops_old_processed_events_only_and_frees_their_ids(
    inbox: WebhookInbox,
) -> None:
    old = await add(inbox, "evt_old", at=AT)
    waiting = await add(inbox, "evt_waiting", at=AT)
    token, _ = await claim(inbox)
    await inbox.mark_processed(old, token, at=later(1), note="applied")
    await inbox.mark_failed(waiting, token, error="x", next_attempt_at=later(60))

    purged = await inbox.purge_processed(before=later(1))

    assert purged == 1
    assert await inbox.get(old) is None
    assert await inbox.get(waiting) is not None
    assert await inbox.add(webhook("evt_old"), id=uuid.uuid4(), at=later(2))


async def test_a_waiting_worker_wakes_when_an_event_is_added(inbox: WebhookInbox) -> None:
    waiter = asyncio.create_task(inbox.wait_for_new(max_wait=30.0))
    await asyncio.sleep(0)

    await add(inbox)

    await asyncio.wait_for(waiter, timeout=5.0)


async def test_waiting_ends_after_max_wait_without_events(inbox: WebhookInbox) -> None:
    await asyncio.wait_for(inbox.wait_for_new(max_wait=0.01), timeout=5.0)


async def test_the_first_tenant_of_a_gateway_payment_stays(stores: Stores) -> None:
    tenants = stores.tenants
    await tenants.remember("stripe", "pi_1", "t1")
    await tenants.remember("stripe", "pi_1", "t2")

    assert await tenants.tenant_of("stripe", "pi_1") == "t1"
    assert await tenants.tenant_of("other", "pi_1") is None


async def test_many_payments_remembered_at_once_are_all_stored_first_tenant_first(
    stores: Stores,
) -> None:
    tenants = stores.tenants
    calls = [tenants.remember("stripe", f"pi_{n}", f"t{n}") for n in range(50)]
    calls += [tenants.remember("stripe", f"pi_{n}", "other") for n in range(0, 50, 7)]

    await asyncio.gather(*calls)

    found = [await tenants.tenant_of("stripe", f"pi_{n}") for n in range(50)]
    assert found == [f"t{n}" for n in range(50)]


async def test_of_an_event_delivered_many_times_at_once_one_delivery_is_stored(
    inbox: WebhookInbox,
) -> None:
    deliveries = [inbox.add(webhook(f"evt_{n % 3}"), id=uuid.uuid4(), at=AT) for n in range(30)]

    stored = await asyncio.gather(*deliveries)

    assert sum(stored) == 3
    assert len(await inbox.find()) == 3


async def test_find_lists_only_the_events_no_tenant_owns_when_asked(inbox: WebhookInbox) -> None:
    await add(inbox, "evt_owned", tenant="t1")
    orphans = [await add(inbox, f"evt_orphan_{n}") for n in range(3)]

    tenantless = await inbox.find(tenantless=True)
    page = await inbox.find(tenantless=True, limit=2)

    assert [e.id for e in tenantless] == orphans[::-1]
    assert [e.id for e in page] == orphans[:0:-1]
    assert await inbox.find(tenant_id="t1", tenantless=True) == []


async def keyed(inbox: WebhookInbox, event_id: str, key: str | None) -> uuid.UUID:
    id = uuid.uuid4()
    received = msgspec.structs.replace(webhook(event_id), ordering_key=key)
    assert await inbox.add(received, id=id, at=AT)
    return id


async def test_an_event_waits_while_another_of_its_key_is_claimed_or_earlier_and_due(
    inbox: WebhookInbox,
) -> None:
    first = await keyed(inbox, "evt_1", "platform:stripe:pi_1")
    other = await keyed(inbox, "evt_2", "platform:stripe:pi_2")
    second = await keyed(inbox, "evt_3", "platform:stripe:pi_1")
    third = await keyed(inbox, "evt_4", "platform:stripe:pi_1")
    free = await keyed(inbox, "evt_5", None)

    token, claimed = await claim(inbox)
    _, while_claimed = await claim(inbox, at=later(1))
    assert [e.id for e in claimed] == [first, other, free]  # never two of one payment
    assert while_claimed == []  # the rest of pi_1 waits while its first one runs

    await inbox.mark_processed(first, token, at=later(2), note="applied")
    token, claimed = await claim(inbox, at=later(2))
    assert [e.id for e in claimed] == [second]  # in arrival order

    # a failed one waiting for its retry does not hold up the later ones
    await inbox.mark_failed(second, token, error="not ready", next_attempt_at=later(10))
    token, claimed = await claim(inbox, at=later(3))
    assert [e.id for e in claimed] == [third]
    _, due_again = await claim(inbox, at=later(10))  # due, but the third is claimed
    await inbox.mark_processed(third, token, at=later(11), note="applied")
    _, retried = await claim(inbox, at=later(11))
    assert (due_again, [e.id for e in retried]) == ([], [second])


async def test_a_claim_whose_lease_ran_out_holds_up_nothing(inbox: WebhookInbox) -> None:
    first = await keyed(inbox, "evt_1", "platform:stripe:pi_1")
    second = await keyed(inbox, "evt_2", "platform:stripe:pi_1")
    await claim(inbox)  # its worker dies: the claim is never settled

    _, during = await claim(inbox, at=later(LEASE - 1))
    _, after = await claim(inbox, at=later(LEASE))

    assert (during, [e.id for e in after]) == ([], [first])
    assert second not in [e.id for e in after]
