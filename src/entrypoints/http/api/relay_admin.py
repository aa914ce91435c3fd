"""GET /admin/relay (operator): how far the integration event relay is (ADR 0035)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get

from entrypoints.http.openapi import query_problems
from entrypoints.relay import current_status


class RelayPosition(msgspec.Struct):
    tx_id: int
    global_position: int


class RelayStatusOut(msgspec.Struct):
    enabled: bool
    stream: str | None
    position: RelayPosition
    head: RelayPosition
    lag: int
    last_error: str | None


class RelayAdminController(Controller):
    path = "/admin/relay"
    tags = ["platform"]

    @get(
        "/",
        summary="Show the integration event relay's progress",
        responses=query_problems("forbidden"),
    )
    async def show_relay(self, request: Request[Any, Any, Any]) -> RelayStatusOut:
        """The relay's checkpoint (the store position up to which every integration event was
        acknowledged by NATS), the store's head, the lag between them (events) and the last
        broker error (null once a publish succeeds). ``enabled`` is false without NATS_URL.
        Operators only; changes nothing."""
        container = request.app.state.container
        settings = container.settings()
        status = await current_status(container)
        return RelayStatusOut(
            enabled=settings.nats_url is not None,
            stream=settings.nats_stream if settings.nats_url else None,
            position=RelayPosition(*status.position),
            head=RelayPosition(*status.head),
            lag=status.lag,
            last_error=status.last_error,
        )
