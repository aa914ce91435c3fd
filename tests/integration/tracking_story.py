"""Helpers for the tracking tests over HTTP: carriers' webhook bodies, posting them, and
waiting for the inbox worker (ADR 0032)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import msgspec

from entrypoints.webhook_worker import WebhookWorker
from entrypoints.webhooks import Webhooks
from tests.integration.http.conftest import Api

DEADLINE = 30.0


def ups_event(tracking_number: str, kind: str, code: str, hhmmss: str) -> bytes:
    """A UPS Track Alert event, shaped as the spec's ``TrackingEvent`` examples."""
    return msgspec.json.encode(
        {
            "trackingNumber": tracking_number,
            "localActivityDate": "20261202",
            "localActivityTime": hhmmss,
            "gmtActivityDate": "20261202",
            "gmtActivityTime": hhmmss,
            "activityLocation": {"city": "Charlotte", "country": "US"},
            "activityStatus": {"type": kind, "code": code, "description": code},
        }
    )


def shipengine_event(tracking_number: str, *scans: tuple[str, str]) -> bytes:
    """ShipEngine's ``track`` webhook: ``scans`` are (status code, ISO time)."""
    events = [
        {"occurred_at": at, "status_code": code, "carrier_status_code": code, "description": code}
        for code, at in scans
    ]
    return msgspec.json.encode(
        {
            "resource_url": f"https://api.shipengine.com/v1/tracking?tracking_number={tracking_number}",
            "resource_type": "API_TRACK",
            "data": {"tracking_number": tracking_number, "events": events},
        }
    )


async def post_ups(
    api: Api, payload: bytes, credential: str | None, tenant_id: Any = None
) -> httpx.Response:
    path = "/api/v1/webhooks/carriers/ups" + (f"/{tenant_id}" if tenant_id else "")
    headers = {"Content-Type": "application/json", "User-Agent": "UPSPubSubTrackingService"}
    if credential is not None:
        headers["credential"] = credential
    return await api.client.post(path, content=payload, headers=headers)


async def post_shipengine(
    api: Api, payload: bytes, secret: str | None, tenant_id: Any = None
) -> httpx.Response:
    path = "/api/v1/webhooks/carriers/shipengine" + (f"/{tenant_id}" if tenant_id else "")
    params = {} if secret is None else {"secret": secret}
    headers = {"Content-Type": "application/json"}
    return await api.client.post(path, content=payload, params=params, headers=headers)


async def settled(api: Api) -> None:
    """Processes the inbox until nothing waits (the app's own worker may take some)."""
    webhooks: Webhooks = api.app.state.webhooks
    worker = WebhookWorker(webhooks)
    deadline = time.monotonic() + DEADLINE
    while True:
        await worker.run_once()
        counts = await webhooks.inbox.counts()
        if counts.received == counts.failed == 0:
            return
        assert time.monotonic() < deadline, f"still waiting: {counts}"
        await asyncio.sleep(0.02)
