"""The reconciliation report store contract, run against memory and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest

from adapters.memory.reconciliation import MemoryReconciliationReports
from adapters.postgres.reconciliation import PostgresReconciliationReports
from commerce_core.eventstore import Position
from commerce_core.payments.ports.reconciliation import (
    Discrepancy,
    DiscrepancyKind,
    ReconciliationReport,
    ReconciliationReports,
    ReconciliationRun,
)
from tests.conftest import PgSchema

DAY = date(2026, 3, 1)
AT = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


@pytest.fixture(params=["memory", "postgres"])
async def reports(request: pytest.FixtureRequest) -> AsyncIterator[ReconciliationReports]:
    if request.param == "memory":
        yield MemoryReconciliationReports()
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=4)
    try:
        yield PostgresReconciliationReports(pool)
    finally:
        await pool.close()
        await schema.drop()


def a_report(tenant_id: str, found: int = 1, day: date = DAY) -> ReconciliationReport:
    return ReconciliationReport(
        tenant_id=tenant_id,
        day=day,
        generated_at=AT,
        payments_checked=3,
        discrepancies=[
            Discrepancy(
                payment_id=uuid.uuid4(),
                order_id=uuid.uuid4(),
                gateway="stripe",
                gateway_payment_id=f"pi_{n}",
                kind=DiscrepancyKind.REFUNDED,
                currency="USD",
                ours=0,
                theirs=700,
                detail="ours 0.00 USD, gateway 7.00 USD",
            )
            for n in range(found)
        ],
    )


async def test_a_report_is_found_by_tenant_and_day(reports: ReconciliationReports) -> None:
    report = a_report("t-1")
    await reports.save(report)
    await reports.save(a_report("t-2", found=0))

    assert await reports.get("t-1", DAY) == report
    assert await reports.get("t-1", date(2026, 3, 2)) is None
    assert await reports.get("t-3", DAY) is None


async def test_running_a_day_again_replaces_its_report(reports: ReconciliationReports) -> None:
    await reports.save(a_report("t-1", found=2))
    again = a_report("t-1", found=0)

    await reports.save(again)

    assert await reports.get("t-1", DAY) == again


async def test_a_run_records_where_the_next_day_begins(reports: ReconciliationReports) -> None:
    assert await reports.run_for(DAY) is None
    await reports.record_run(
        ReconciliationRun(day=DAY, finished_at=AT, next_day_from=Position(5, 9))
    )
    run = ReconciliationRun(day=DAY, finished_at=AT, next_day_from=Position(2**40, 12))

    await reports.record_run(run)

    assert await reports.run_for(DAY) == run
