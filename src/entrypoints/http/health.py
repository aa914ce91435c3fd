"""Liveness and readiness."""

from __future__ import annotations

import logging
from typing import Any, Literal

import msgspec
from litestar import Controller, Request, get
from litestar.openapi import ResponseSpec
from litestar.response import Response

from entrypoints.container import Container
from entrypoints.http.api.admin import provide_projection_ops
from entrypoints.http.openapi import VerbatimExample, problem_responses
from entrypoints.http.projection_health import ProjectionHealth, projection_health
from entrypoints.projection_ops import ProjectionStatus

log = logging.getLogger(__name__)


class Health(msgspec.Struct):
    status: Literal["ok"]


class Ready(msgspec.Struct, omit_defaults=True):
    """``degraded`` and ``projections`` are left out when the projections' state could
    not be read (the database answered: the service is ready all the same)."""

    status: Literal["ready"]
    degraded: list[str] | None = None
    projections: list[ProjectionHealth] | None = None


_READY = ResponseSpec(
    data_container=Ready,
    generate_examples=False,
    description="The database answers; how each projection stands.",
    examples=[
        VerbatimExample(
            summary="Ready, one projection holding events in quarantine",
            value={
                "status": "ready",
                "degraded": ["order_list"],
                "projections": [
                    {
                        "name": "order_list",
                        "version": 2,
                        "status": "degraded",
                        "lag": 0,
                        "quarantined": 1,
                        "degraded_tenants": 1,
                    }
                ],
            },
        )
    ],
)


class HealthController(Controller):
    @get("/health", summary="Liveness", sync_to_thread=False)
    def health(self) -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @get("/ready", summary="Readiness", responses={200: _READY, **problem_responses(["not-ready"])})
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Readiness: the database answers (200). The body lists every projection's lag and
        status, and under ``degraded`` the ones holding events in quarantine."""
        container: Container = request.app.state.container
        pool = container.pool()
        try:
            if pool is not None:
                await pool.fetchval("SELECT 1")
        except Exception as error:  # any failure to reach the database means not ready
            return Response(
                {
                    "type": "https://commerce-core.dev/problems/not-ready",
                    "title": "Not ready",
                    "status": 503,
                    "detail": f"database unavailable: {type(error).__name__}",
                },
                status_code=503,
                media_type="application/problem+json",
            )
        return Response(await _ready_body(request), status_code=200)


async def _ready_body(request: Request[Any, Any, Any]) -> Ready:
    try:
        found = await projection_health(provide_projection_ops(request))
    except Exception:  # the database answered: still ready, without the projections' part
        log.warning("projection status unavailable for /ready", exc_info=True)
        return Ready(status="ready")
    degraded = [p.name for p in found if p.status == ProjectionStatus.DEGRADED]
    return Ready(status="ready", degraded=degraded, projections=found)
