"""Projections' health for ``/ready`` and ``/metrics``: lag, degraded versions, quarantine.

Both are read without a tenant's key, so they carry counts only: never a tenant's
id, an event or an error text (those are in ``GET /admin/projections``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import msgspec

from entrypoints.http.metrics import MetricsRegistry
from entrypoints.projection_ops import ProjectionInfo, ProjectionOps, ProjectionStatus

log = logging.getLogger(__name__)


class ProjectionHealth(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    version: int
    status: ProjectionStatus
    lag: int
    quarantined: int
    degraded_tenants: int

    @classmethod
    def of(cls, info: ProjectionInfo) -> ProjectionHealth:
        return cls(
            name=info.name,
            version=info.version,
            status=info.status,
            lag=info.lag,
            quarantined=info.quarantined,
            degraded_tenants=info.degraded_tenants,
        )


async def projection_health(ops: ProjectionOps) -> list[ProjectionHealth]:
    """Every projection version the service runs, as ``/ready`` lists it."""
    return [ProjectionHealth.of(info) for info in await ops.statuses()]


def export_projection_metrics(metrics: MetricsRegistry, ops: Callable[[], ProjectionOps]) -> None:
    """``projection_lag``, ``projection_quarantined_events``, ``projection_degraded_tenants``
    (by projection and version) and ``projections_degraded``, read at each scrape."""
    labels = ("projection", "version")
    lag = metrics.gauge("projection_lag", "Events a projection is behind the store", labels)
    held = metrics.gauge(
        "projection_quarantined_events", "Events a projection holds in quarantine", labels
    )
    tenants = metrics.gauge(
        "projection_degraded_tenants", "Tenants whose events a projection holds", labels
    )
    degraded = metrics.gauge("projections_degraded", "Projection versions that are degraded")

    async def collect() -> None:
        try:
            found = await projection_health(ops())
        except Exception:  # a scrape must answer even when the database does not
            log.warning("projection metrics unavailable", exc_info=True)
            return
        for each in found:
            named = {"projection": each.name, "version": str(each.version)}
            lag.labels(**named).set(each.lag)
            held.labels(**named).set(each.quarantined)
            tenants.labels(**named).set(each.degraded_tenants)
        degraded.set(sum(1 for each in found if each.status == "degraded"))

    metrics.on_collect(collect)
