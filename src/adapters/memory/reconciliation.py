"""Reconciliation reports and runs in memory, for tests and the memory configuration."""

from __future__ import annotations

from datetime import date

from commerce_core.payments.ports.reconciliation import ReconciliationReport, ReconciliationRun


class MemoryReconciliationReports:
    def __init__(self) -> None:
        self._reports: dict[tuple[str, date], ReconciliationReport] = {}
        self._runs: dict[date, ReconciliationRun] = {}

    async def save(self, report: ReconciliationReport) -> None:
        self._reports[(report.tenant_id, report.day)] = report

    async def get(self, tenant_id: str, day: date) -> ReconciliationReport | None:
        return self._reports.get((tenant_id, day))

    async def record_run(self, run: ReconciliationRun) -> None:
        self._runs[run.day] = run

    async def run_for(self, day: date) -> ReconciliationRun | None:
        return self._runs.get(day)
