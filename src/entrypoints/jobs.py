"""Order and payment jobs: once from the CLI (``commerce jobs run NAME``, in
``entrypoints.cli.jobs``), or periodically in the app and the worker (``running_jobs``).

Jobs (``commerce_core.processes.payment_jobs`` and ``reconciliation``):

- ``expire-reservations`` (every minute): releases expired stock holds.
- ``auto-cancel-unpaid`` (every 5 minutes): cancels card orders unpaid after the
  tenant's ``auto_cancel_unpaid_hours``.
- ``resolve-pending-payments`` (every 5 minutes): asks the gateway about payments left
  waiting for 3-D Secure for 15 minutes and records its answer.
- ``poll-tracking`` (every 5 minutes): asks carriers without webhooks (UPS, the fake)
  about up to 100 open parcels not checked for an hour (``processes.tracking``).
- ``reconcile`` (checked hourly): compares yesterday's (UTC) card payments with the
  gateway and stores a report per tenant, once the day is 30 minutes over; from the
  CLI any ``--date`` (run again, it replaces that day's reports).

Every job is safe to run twice or in several processes at once; ``running_jobs`` still
takes a lock per job (a PostgreSQL advisory lock with a pool) so that one process at a
time runs each, instead of all of them doing the same work.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog

from commerce_core.effects.recovery import RecoveryServices, recover_effects
from commerce_core.eventstore import EventStore, Repository
from commerce_core.fulfilment.connections import TenantCarriers
from commerce_core.fulfilment.label_documents import LabelDocuments
from commerce_core.fulfilment.tracking import TrackedParcels
from commerce_core.ordering.ports.order_queries import OrderQueries
from commerce_core.payments.ports.gateway_configs import TenantGateways
from commerce_core.payments.ports.reconciliation import ReconciliationReports
from commerce_core.payments.reconciliation import ReconciliationServices, reconcile_day
from commerce_core.processes.payment_jobs import (
    JobOutcome,
    JobServices,
    cancel_unpaid_orders,
    expire_reservations,
    resolve_pending_payments,
)
from commerce_core.processes.tracking import FeesOf, TrackingServices, poll_tracking
from commerce_core.projections.ports.read_models import ProjectionLocks, ReadModelStore
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.tenancy.ports.tenant_directory import TenantDirectory
from entrypoints.container import LocksFactory
from entrypoints.webhooks import tracking_services

RECONCILE_AFTER = timedelta(minutes=30)
"""How long after midnight (UTC) the day before is reconciled: late commits land first."""


@dataclasses.dataclass(frozen=True)
class JobDeps:
    """The ports the jobs use."""

    repo: Repository
    store: EventStore
    clock: Clock
    order_queries: OrderQueries
    directory: TenantDirectory
    gateways: TenantGateways
    reports: ReconciliationReports
    ids: Ids
    read_models: ReadModelStore
    carriers: TenantCarriers
    keyring: Keyring
    labels: LabelDocuments
    parcels: TrackedParcels
    fees: FeesOf

    @classmethod
    def from_container(cls, c: Any) -> JobDeps:
        return cls(
            repo=c.repository(),
            store=c.event_store(),
            clock=c.clock(),
            order_queries=c.order_queries(),
            directory=c.tenant_directory(),
            gateways=c.gateway_resolver(),
            reports=c.reconciliation_reports(),
            ids=c.ids(),
            read_models=c.read_models(),
            carriers=c.carriers(),
            keyring=c.keyring(),
            labels=c.label_documents(),
            parcels=c.tracked_parcels(),
            fees=tracking_services(c).fees,
        )

    def reconciliation_services(self) -> ReconciliationServices:
        return ReconciliationServices(
            store=self.store,
            repo=self.repo,
            gateways=self.gateways,
            reports=self.reports,
            clock=self.clock,
        )

    def job_services(self) -> JobServices:
        return JobServices(
            repo=self.repo,
            clock=self.clock,
            ids=self.ids,
            gateways=self.gateways,
            order_queries=self.order_queries,
        )


Job = Callable[[JobDeps, date | None], Awaitable[JobOutcome]]


async def _expire(deps: JobDeps, day: date | None) -> JobOutcome:
    tenants = await deps.directory.all_tenants()
    return await expire_reservations(deps.job_services(), tenants)


async def _cancel_unpaid(deps: JobDeps, day: date | None) -> JobOutcome:
    tenants = await deps.directory.all_tenants()
    return await cancel_unpaid_orders(deps.job_services(), tenants)


async def _resolve_pending(deps: JobDeps, day: date | None) -> JobOutcome:
    tenants = await deps.directory.all_tenants()
    return await resolve_pending_payments(deps.job_services(), tenants)


async def _recover_effects(deps: JobDeps, day: date | None) -> JobOutcome:
    services = RecoveryServices(
        repo=deps.repo,
        read_models=deps.read_models,
        clock=deps.clock,
        ids=deps.ids,
        gateways=deps.gateways,
        carriers=deps.carriers,
        keyring=deps.keyring,
        labels=deps.labels,
        parcels=deps.parcels,
    )
    round_ = await recover_effects(services)
    closed = round_.looked_at - round_.still_open
    errors = [f"{round_.still_open} intents still open"] if round_.still_open else []
    return JobOutcome("recover-effects", examined=round_.looked_at, changed=closed, errors=errors)


async def _poll_tracking(deps: JobDeps, day: date | None) -> JobOutcome:
    services = TrackingServices(
        repo=deps.repo,
        clock=deps.clock,
        parcels=deps.parcels,
        carriers=deps.carriers,
        fees=deps.fees,
    )
    round_ = await poll_tracking(services)
    return JobOutcome(
        "poll-tracking", examined=round_.looked_at, changed=round_.changed, errors=round_.errors
    )


def yesterday(clock: Clock) -> date:
    return clock.now().astimezone(UTC).date() - timedelta(days=1)


async def _reconcile(deps: JobDeps, day: date | None) -> JobOutcome:
    day = day or yesterday(deps.clock)
    tenant_ids = [str(t.id) for t in await deps.directory.all_tenants()]
    reports = await reconcile_day(deps.reconciliation_services(), day, tenant_ids)
    # examined: payments compared; changed: reports written; notes: where they differ
    outcome = JobOutcome(f"reconcile {day.isoformat()}", changed=len(reports))
    for report in reports:
        outcome.examined += report.payments_checked
        if report.discrepancies:
            complete = "" if report.complete else " (incomplete: run the day again)"
            found = len(report.discrepancies)
            outcome.notes.append(f"tenant {report.tenant_id}: {found} discrepancies{complete}")
    return outcome


async def _reconcile_when_due(deps: JobDeps, day: date | None) -> JobOutcome:
    """Reconciles yesterday once, after ``RECONCILE_AFTER``; a no-op otherwise."""
    now = deps.clock.now().astimezone(UTC)
    midnight = datetime.combine(now.date(), time(), tzinfo=UTC)
    day = yesterday(deps.clock)
    if now < midnight + RECONCILE_AFTER or await deps.reports.run_for(day) is not None:
        return JobOutcome("reconcile")
    return await _reconcile(deps, day)


JOBS: dict[str, Job] = {
    "expire-reservations": _expire,
    "auto-cancel-unpaid": _cancel_unpaid,
    "resolve-pending-payments": _resolve_pending,
    "reconcile": _reconcile,
    "recover-effects": _recover_effects,
    "poll-tracking": _poll_tracking,
}
"""The jobs by name, as run once (``reconcile``: the given day, default yesterday)."""

_PERIODIC: dict[str, Job] = {**JOBS, "reconcile": _reconcile_when_due}

EVERY: dict[str, float] = {
    "expire-reservations": 60.0,
    "auto-cancel-unpaid": 300.0,
    "resolve-pending-payments": 300.0,
    "reconcile": 3600.0,
    "recover-effects": 5.0,
    "poll-tracking": 300.0,
}
"""Seconds between periodic runs of each job."""


class UnknownJobError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no job {name!r} (jobs: {', '.join(sorted(JOBS))})")


async def run_job(name: str, deps: JobDeps, day: date | None = None) -> JobOutcome:
    """Runs one job once; ``UnknownJobError`` for a name not in ``JOBS``."""
    job = JOBS.get(name)
    if job is None:
        raise UnknownJobError(name)
    return await job(deps, day)


Observer = Callable[[JobOutcome], None]


async def _every(
    name: str,
    interval: float,
    deps: JobDeps,
    locks: ProjectionLocks,
    observe: Observer | None,
) -> None:
    log = structlog.get_logger("jobs").bind(job=name)
    job = _PERIODIC[name]
    while True:
        lease = await locks.try_acquire(f"job:{name}")
        if lease is not None:
            try:
                outcome = await job(deps, None)
            except Exception:
                log.exception("job failed")  # the next run tries again
            else:
                if outcome.changed or outcome.errors or outcome.notes:
                    log.info("job ran", **dataclasses.asdict(outcome))
                if observe is not None:
                    observe(outcome)
            finally:
                await lease.release()
        await asyncio.sleep(interval)


@asynccontextmanager
async def running_jobs(
    deps: JobDeps,
    locks: LocksFactory,
    *,
    every: Mapping[str, float] | None = None,
    observe: Observer | None = None,
) -> AsyncIterator[None]:
    """Runs every job in ``every`` (default ``EVERY``) periodically until the block ends.

    Each run holds the job's lock from ``locks`` (the container's ``projection_locks``:
    with PostgreSQL an advisory lock, on a connection of its own), so one process at a
    time runs each job. ``observe`` is called with each run's outcome.
    """
    async with locks() as held:
        tasks = [
            asyncio.create_task(_every(name, interval, deps, held, observe), name=f"job:{name}")
            for name, interval in (every or EVERY).items()
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
