"""Daily reconciliation reports: where our books and the gateway's disagree.

One report per tenant and UTC day; running the reconciliation of a day again
replaces that day's reports. A run also records where in the event log the
next day begins, so the next day's run reads only from there.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.eventstore import Position


class DiscrepancyKind(StrEnum):
    CAPTURED = "captured"
    """The amounts captured differ."""
    REFUNDED = "refunded"
    """The amounts refunded differ (beyond refunds still pending on our side)."""
    STATUS = "status"
    """The payment is in another state at the gateway (e.g. voided there, captured here)."""
    GATEWAY_FEE = "gateway_fee"
    """The gateway's fee differs from the one we recorded."""
    MISSING_AT_GATEWAY = "missing_at_gateway"
    """The gateway does not know the payment."""
    UNCHECKED = "unchecked"
    """The gateway did not answer: this payment was not compared (run the day again)."""


class Discrepancy(msgspec.Struct, frozen=True, kw_only=True):
    """One difference; amounts are minor units of ``currency`` (None where not amounts)."""

    payment_id: UUID
    order_id: UUID
    gateway: str
    gateway_payment_id: str | None
    kind: DiscrepancyKind
    currency: str
    ours: int | None = None
    theirs: int | None = None
    detail: str = ""


class ReconciliationReport(msgspec.Struct, frozen=True, kw_only=True):
    """A tenant's payments that moved on ``day`` (UTC), compared with the gateway's records."""

    tenant_id: str
    day: date
    generated_at: datetime
    payments_checked: int
    discrepancies: list[Discrepancy] = msgspec.field(default_factory=list)

    @property
    def complete(self) -> bool:
        """False when some payments could not be compared (the gateway did not answer)."""
        return all(d.kind is not DiscrepancyKind.UNCHECKED for d in self.discrepancies)


class ReconciliationRun(msgspec.Struct, frozen=True, kw_only=True):
    """A finished run for ``day``; ``next_day_from`` is where the next day's events begin
    in the global order (read after it)."""

    day: date
    finished_at: datetime
    next_day_from: Position


class ReconciliationReports(Protocol):
    """Storage of reports and runs.

    - ``save`` stores the tenant's report for its day, replacing an earlier one.
    - ``get`` returns it, or None.
    - ``record_run`` / ``run_for`` store and return the run of a day (replacing).
    """

    async def save(self, report: ReconciliationReport) -> None: ...

    async def get(self, tenant_id: str, day: date) -> ReconciliationReport | None: ...

    async def record_run(self, run: ReconciliationRun) -> None: ...

    async def run_for(self, day: date) -> ReconciliationRun | None: ...
