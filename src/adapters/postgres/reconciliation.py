"""Reconciliation reports and runs in PostgreSQL (migration 0008).

A report is one JSON document per (tenant, day): it is read and written whole.
Expects a pool made by ``adapters.postgres.connection.create_pool`` (raw jsonb codec).
"""

from __future__ import annotations

from datetime import date

import asyncpg
import msgspec

from commerce_core.eventstore import Position
from commerce_core.payments.ports.reconciliation import ReconciliationReport, ReconciliationRun

_report_decoder = msgspec.json.Decoder(ReconciliationReport)

_SAVE = """
INSERT INTO reconciliation_reports (tenant_id, day, generated_at, report) VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant_id, day) DO UPDATE SET
    generated_at = EXCLUDED.generated_at, report = EXCLUDED.report
"""
_RECORD_RUN = """
INSERT INTO reconciliation_runs (day, finished_at, next_tx_id, next_global_position)
VALUES ($1, $2, $3, $4)
ON CONFLICT (day) DO UPDATE SET
    finished_at = EXCLUDED.finished_at,
    next_tx_id = EXCLUDED.next_tx_id,
    next_global_position = EXCLUDED.next_global_position
"""


class PostgresReconciliationReports:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def save(self, report: ReconciliationReport) -> None:
        await self._pool.execute(
            _SAVE, report.tenant_id, report.day, report.generated_at, msgspec.json.encode(report)
        )

    async def get(self, tenant_id: str, day: date) -> ReconciliationReport | None:
        data = await self._pool.fetchval(
            "SELECT report FROM reconciliation_reports WHERE tenant_id = $1 AND day = $2",
            tenant_id,
            day,
        )
        return None if data is None else _report_decoder.decode(data)

    async def record_run(self, run: ReconciliationRun) -> None:
        position = run.next_day_from
        await self._pool.execute(
            _RECORD_RUN, run.day, run.finished_at, position.tx_id, position.global_position
        )

    async def run_for(self, day: date) -> ReconciliationRun | None:
        row = await self._pool.fetchrow(
            "SELECT day, finished_at, next_tx_id, next_global_position"
            " FROM reconciliation_runs WHERE day = $1",
            day,
        )
        if row is None:
            return None
        return ReconciliationRun(
            day=row["day"],
            finished_at=row["finished_at"],
            next_day_from=Position(row["next_tx_id"], row["next_global_position"]),
        )
