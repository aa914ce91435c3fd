"""The demo mode's test gateway on PostgreSQL: one state for every process, acting once.

Each ``PostgresFakeGateway`` here has a pool of its own, as separate processes (the app,
a restart of it, the CLI's jobs) would. The behaviour it shares with the memory fake is
held to the gateway contract in tests/contract/test_payment_gateway.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date, timedelta

import asyncpg
import pytest

from adapters.memory.payment_gateway import FakePaymentGateway
from adapters.memory.reconciliation import MemoryReconciliationReports
from adapters.payments.resolver import GatewayResolver
from adapters.postgres.fake_gateway import PostgresFakeGateway
from commerce_core.payments.payment import PaymentStatus
from commerce_core.payments.ports.gateway import (
    GatewayPayment,
    GatewayRefund,
    GatewayRequestError,
    GatewayStatus,
    GatewayUnavailableError,
)
from commerce_core.payments.ports.reconciliation import DiscrepancyKind, ReconciliationReport
from commerce_core.payments.reconciliation import ReconciliationServices, reconcile_day
from commerce_core.processes.payment_jobs import JobServices, resolve_pending_payments
from commerce_core.shared.money import Money
from tests.conftest import PgSchema
from tests.unit.tenant_shop import STAFF, TENANT_KEY, TenantShop, a_tenant

Process = Callable[[], Awaitable[PostgresFakeGateway]]


def usd(cents: int) -> Money:
    return Money(cents, "USD")


def key() -> str:
    return f"test-{uuid.uuid4()}"


@pytest.fixture
async def process(pg_schema: PgSchema) -> AsyncIterator[Process]:
    """Starts a "process": a test gateway on a pool of its own, over the test's schema."""
    pools: list[asyncpg.Pool] = []

    async def start() -> PostgresFakeGateway:
        pool = await pg_schema.pool(max_size=10)
        pools.append(pool)
        return PostgresFakeGateway(pool)

    yield start
    for pool in pools:
        await pool.close()


# One state for every process


async def test_two_processes_see_the_same_payments_and_answers(process: Process) -> None:
    app, jobs = await process(), await process()
    capture_key = key()

    payment = await app.authorize(usd(5_000), "tok_visa", key(), {"order_id": "o-1"})
    assert await jobs.retrieve(payment.gateway_payment_id) == payment
    first = await jobs.capture(payment.gateway_payment_id, usd(2_000), capture_key, final=False)
    rest = await app.capture(payment.gateway_payment_id, None, key())
    refund = await app.refund(payment.gateway_payment_id, usd(500), key(), metadata={"r": "1"})

    # a repeat of a key asks the table, whichever process sends it
    assert await app.capture(payment.gateway_payment_id, usd(2_000), capture_key, final=False) == (
        first
    )
    assert (rest.captured, rest.status) == (usd(5_000), GatewayStatus.CAPTURED)
    after = await jobs.retrieve(payment.gateway_payment_id)
    assert (after.captured, after.refunded) == (usd(5_000), usd(500))
    assert await jobs.refunds_made() == [refund]
    assert await jobs.refund_metadata(refund.gateway_refund_id) == {"r": "1"}
    assert await jobs.count_payments() == 1


async def test_a_restarted_process_hands_out_new_ids(process: Process) -> None:
    before = await process()
    payment = await before.charge(usd(5_000), "tok_visa", key())
    refund = await before.refund(payment.gateway_payment_id, usd(100), key())

    restarted = await process()
    again = await restarted.charge(usd(5_000), "tok_visa", key())
    second_refund = await restarted.refund(again.gateway_payment_id, usd(100), key())

    assert again.gateway_payment_id != payment.gateway_payment_id
    assert second_refund.gateway_refund_id != refund.gateway_refund_id
    assert (await restarted.retrieve(payment.gateway_payment_id)).refunded == usd(100)


async def test_3ds_finished_in_one_process_is_seen_by_another(process: Process) -> None:
    app, other = await process(), await process()
    waiting = await app.authorize(usd(5_000), "tok_3ds", key())

    await other.complete_authentication(waiting.gateway_payment_id)

    assert (await app.retrieve(waiting.gateway_payment_id)).status == GatewayStatus.AUTHORIZED
    with pytest.raises(GatewayRequestError) as twice:
        await app.complete_authentication(waiting.gateway_payment_id)
    assert twice.value.code == "payment_intent_unexpected_state"


async def test_a_refusal_is_replayed_by_another_process(process: Process) -> None:
    app, other = await process(), await process()
    payment = await app.authorize(usd(5_000), "tok_visa", key())
    same = key()

    with pytest.raises(GatewayRequestError):
        await app.capture(payment.gateway_payment_id, usd(9_000), same)
    with pytest.raises(GatewayRequestError) as replayed:
        await other.capture(payment.gateway_payment_id, usd(9_000), same)
    with pytest.raises(GatewayRequestError) as reused:
        await other.capture(payment.gateway_payment_id, usd(1_000), same)

    assert (replayed.value.code, reused.value.code) == (
        "amount_too_large",
        "idempotency_key_reused",
    )


# Concurrency


async def test_ten_concurrent_calls_with_one_key_make_one_payment(process: Process) -> None:
    gateways = [await process() for _ in range(2)]
    same = key()

    answers = await asyncio.gather(
        *(gateways[n % 2].charge(usd(5_000), "tok_visa", same) for n in range(10))
    )

    assert len({answer.gateway_payment_id for answer in answers}) == 1
    assert all(answer == answers[0] for answer in answers)
    assert await gateways[0].count_payments() == 1


async def test_ten_concurrent_refunds_with_one_key_refund_once(process: Process) -> None:
    gateways = [await process() for _ in range(2)]
    payment = await gateways[0].charge(usd(5_000), "tok_visa", key())
    same = key()

    refunds = await asyncio.gather(
        *(gateways[n % 2].refund(payment.gateway_payment_id, usd(700), same) for n in range(10))
    )

    assert len({refund.gateway_refund_id for refund in refunds}) == 1
    assert (await gateways[1].retrieve(payment.gateway_payment_id)).refunded == usd(700)


async def test_concurrent_captures_never_take_more_than_was_authorized(process: Process) -> None:
    gateways = [await process() for _ in range(2)]
    payment = await gateways[0].authorize(usd(5_000), "tok_visa", key())

    outcomes = await asyncio.gather(
        *(
            gateways[n % 2].capture(payment.gateway_payment_id, usd(1_000), key(), final=False)
            for n in range(8)
        ),
        return_exceptions=True,
    )

    taken = [o for o in outcomes if isinstance(o, GatewayPayment)]
    refused = [o for o in outcomes if isinstance(o, GatewayRequestError)]
    assert (len(taken), len(refused)) == (5, 3)
    assert {error.code for error in refused} == {"amount_too_large"}
    assert sorted(answer.captured.amount for answer in taken) == [1_000, 2_000, 3_000, 4_000, 5_000]
    assert (await gateways[1].retrieve(payment.gateway_payment_id)).captured == usd(5_000)


async def test_concurrent_refunds_never_return_more_than_was_captured(process: Process) -> None:
    gateways = [await process() for _ in range(2)]
    payment = await gateways[0].charge(usd(5_000), "tok_visa", key())

    outcomes = await asyncio.gather(
        *(gateways[n % 2].refund(payment.gateway_payment_id, usd(2_000), key()) for n in range(6)),
        return_exceptions=True,
    )

    assert len([o for o in outcomes if isinstance(o, GatewayRefund)]) == 2
    assert len([o for o in outcomes if isinstance(o, GatewayRequestError)]) == 4
    assert (await gateways[1].retrieve(payment.gateway_payment_id)).refunded == usd(4_000)


async def test_the_database_out_of_reach_is_no_answer(pg_schema: PgSchema) -> None:
    pool = await pg_schema.pool(max_size=2)
    gateway = PostgresFakeGateway(pool)
    payment = await gateway.authorize(usd(5_000), "tok_visa", key())
    await pool.close()

    with pytest.raises(GatewayUnavailableError):
        await gateway.capture(payment.gateway_payment_id, None, key())
    with pytest.raises(GatewayUnavailableError):
        await gateway.retrieve(payment.gateway_payment_id)


# The demo mode's jobs: another process finds the app's payments


async def test_the_jobs_of_another_process_resolve_and_reconcile_the_app_s_payments(
    process: Process,
) -> None:
    app_gateway = await process()
    shop = TenantShop(gateway=app_gateway)  # type: ignore[arg-type]  # the app's gateway
    await shop.stock("MUG-1", price=1000, quantity=10)
    charged = await shop.order_for(("MUG-1", 2))
    paid = (await shop.charge(charged.id, ctx=STAFF)).payment
    waiting_order = await shop.order_for(("MUG-1", 1))
    waiting = (await shop.authorize(waiting_order.id, "tok_3ds", ctx=STAFF)).payment
    await app_gateway.complete_authentication(waiting.gateway_payment_id or "")  # webhook lost

    jobs = GatewayResolver(shop.configs, await process())  # the CLI, after a restart
    shop.clock.advance(timedelta(minutes=15))
    services = JobServices(
        repo=shop.repo,
        clock=shop.clock,
        ids=shop.ids,
        gateways=jobs,
        order_queries=await shop.order_list(),
    )
    resolved = await resolve_pending_payments(services, [a_tenant()])
    day = shop.clock.now().date()
    [report] = await reconcile(shop, jobs, day)

    assert (resolved.changed, resolved.errors) == (1, [])
    assert (await shop.payment(waiting.id)).status is PaymentStatus.AUTHORIZED
    assert (report.payments_checked, report.discrepancies) == (2, [])
    # an in-memory test gateway in that process would know none of them
    [blind] = await reconcile(shop, GatewayResolver(shop.configs, FakePaymentGateway()), day)
    assert {d.kind for d in blind.discrepancies} == {DiscrepancyKind.MISSING_AT_GATEWAY}
    assert paid.gateway_payment_id


async def reconcile(
    shop: TenantShop, gateways: GatewayResolver, day: date
) -> list[ReconciliationReport]:
    services = ReconciliationServices(
        store=shop.store,
        repo=shop.repo,
        gateways=gateways,
        reports=MemoryReconciliationReports(),
        clock=shop.clock,
    )
    return await reconcile_day(services, day, (TENANT_KEY,))
