"""Sending due deliveries: resolve and check the address, sign, post, record the attempt.

Each delivery is claimed by one worker (a lease) and its attempt recorded before the
next is scheduled, so an event reaches an endpoint once per attempt and stops at the
first 2xx. Attempts to one endpoint run at most ``per_endpoint`` at a time, so a slow
receiver holds back only its own deliveries.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from commerce_core.merchant_webhooks.deliveries import (
    Attempt,
    Delivery,
    DeliveryStatus,
    Outcome,
    outcome_of,
    truncated,
)
from commerce_core.merchant_webhooks.endpoints import EndpointStatus, WebhookEndpoint
from commerce_core.merchant_webhooks.ports import (
    HostResolver,
    SendResult,
    WebhookDeliveries,
    WebhookEndpoints,
    WebhookSender,
)
from commerce_core.merchant_webhooks.schedule import DISABLE_AFTER
from commerce_core.merchant_webhooks.signing import HEADER, signature_header
from commerce_core.merchant_webhooks.urls import UrlRules, check_address, parse_url
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.ports.clock import Clock

LEASE = timedelta(minutes=2)
"""How long a claimed delivery is left to its worker; longer than any attempt."""


@dataclass(frozen=True)
class DispatchDeps:
    endpoints: WebhookEndpoints
    deliveries: WebhookDeliveries
    sender: WebhookSender
    resolver: HostResolver
    clock: Clock
    rules: UrlRules
    jitter: Callable[[], float]
    timeout: float = 10.0
    per_endpoint: int = 4


async def deliver_due(deps: DispatchDeps, limit: int = 100) -> int:
    """Attempts every delivery due now (up to ``limit``); returns how many it attempted."""
    now = deps.clock.now()
    due = await deps.deliveries.claim_due(now, now + LEASE, limit)
    gates: dict[object, asyncio.Semaphore] = {}

    async def gated(delivery: Delivery) -> None:
        gate = gates.setdefault(delivery.endpoint_id, asyncio.Semaphore(deps.per_endpoint))
        async with gate:
            await attempt(deps, delivery)

    await asyncio.gather(*(gated(delivery) for delivery in due))
    return len(due)


async def attempt(deps: DispatchDeps, delivery: Delivery) -> None:
    endpoint = await deps.endpoints.get(delivery.tenant, delivery.endpoint_id)
    if endpoint is None:  # deleted since: its deliveries go with it
        return
    number = len(delivery.attempts) + 1
    at = deps.clock.now()
    if endpoint.status is EndpointStatus.DISABLED:
        refused = Attempt(number=number, at=at, status_code=None, duration_ms=0, error=_DISABLED)
        outcome = Outcome(attempt=refused, status=DeliveryStatus.FAILED, next_attempt_at=None)
        await deps.deliveries.record(delivery, outcome)
        return
    started = time.monotonic()
    result = await _send(deps, endpoint, delivery)
    tried = Attempt(
        number=number,
        at=at,
        status_code=result.status_code,
        duration_ms=round((time.monotonic() - started) * 1000),
        error=truncated(result.error),
        response_body=truncated(result.response_body),
    )
    await deps.deliveries.record(delivery, outcome_of(delivery, tried, deps.jitter))
    await _track_health(deps, endpoint, tried)


_DISABLED = "the endpoint is disabled; enable it (PATCH enabled: true) and retry the delivery"


async def _send(deps: DispatchDeps, endpoint: WebhookEndpoint, delivery: Delivery) -> SendResult:
    try:
        target = parse_url(endpoint.url, deps.rules)
        addresses = await deps.resolver.resolve(target.host)
        if not addresses:
            return SendResult(status_code=None, error=f"{target.host} does not resolve")
        for address in addresses:  # checked now too: the name may point elsewhere today
            check_address(ipaddress.ip_address(address), deps.rules)
    except InvalidValueError as refused:
        return SendResult(status_code=None, error=str(refused))
    now = deps.clock.now()
    signed = signature_header(endpoint.secrets.signing(now), int(now.timestamp()), delivery.body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "commerce-core-webhooks/1",
        HEADER: signed,
        "Commerce-Event-Id": str(delivery.event_id),
        "Commerce-Event-Type": delivery.event_type,
        "Commerce-Delivery-Id": str(delivery.id),
    }
    return await deps.sender.post(endpoint.url, headers, delivery.body, deps.timeout)


async def _track_health(deps: DispatchDeps, endpoint: WebhookEndpoint, tried: Attempt) -> None:
    since = await deps.endpoints.note_attempt(
        endpoint.tenant, endpoint.id, tried.at, tried.succeeded
    )
    if since is not None and tried.at - since >= DISABLE_AFTER:
        notice = (
            f"disabled on {tried.at:%Y-%m-%d %H:%M} UTC: every delivery failed since"
            f" {since:%Y-%m-%d %H:%M} UTC (last: {tried.error or tried.status_code});"
            " fix the receiver, then PATCH enabled: true and retry the failed deliveries"
        )
        await deps.endpoints.disable(endpoint.tenant, endpoint.id, notice, tried.at)
