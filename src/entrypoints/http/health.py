"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.response import Response

from entrypoints.container import Container
from entrypoints.http.openapi import problem_responses


class Health(msgspec.Struct):
    status: str


class HealthController(Controller):
    @get("/health", sync_to_thread=False)
    def health(self) -> Health:
        """Liveness: the process answers."""
        return Health(status="ok")

    @get("/ready", responses=problem_responses(["not-ready"]))
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Readiness: the database answers."""
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
        return Response({"status": "ready"}, status_code=200)
