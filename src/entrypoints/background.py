"""The background work of a process: projections, webhook processing, payment jobs,
merchant webhook deliveries, customer notifications, the POS order pull and the integration
event relay (only with NATS_URL).

The app runs it in every server process unless RUN_PROJECTIONS=0; `commerce worker` runs
it alone. BACKGROUND_WORK (default
"projections,webhooks,jobs,merchant_webhooks,notifications,channels,relay") picks which
parts run.
Several processes may run it at once: each projection and each job is worked on by one
process at a time (PostgreSQL advisory locks), and webhook events are claimed with
SKIP LOCKED leases.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import asyncpg

from entrypoints.channel_sync import channel_sync, running_channel_sync
from entrypoints.container import Container
from entrypoints.jobs import JobDeps, running_jobs
from entrypoints.merchant_webhook_worker import merchant_webhooks, running_merchant_webhooks
from entrypoints.notification_worker import notification_worker, running_notifications
from entrypoints.projections import running_projections
from entrypoints.relay import running_relay
from entrypoints.settings import Settings
from entrypoints.webhook_worker import running_webhook_worker
from entrypoints.webhooks import Webhooks

WEBHOOK_LOOPS = 2


async def start_background_work(
    stack: AsyncExitStack,
    state: Any,
    settings: Settings,
    container: Container,
    pool: asyncpg.Pool | None,
) -> None:
    """Starts everything on ``stack``; it stops when the stack closes. ``state`` gets
    ``projections`` (the runner) and ``webhook_worker``; ``state.webhooks`` must be set."""
    webhooks: Webhooks = state.webhooks
    work = settings.background_work
    if "projections" in work:
        state.projections = await stack.enter_async_context(
            running_projections(
                container.event_store(), container.read_models(), container.projection_locks()
            )
        )
    if "webhooks" in work:
        # two loops: one claims and reads its batch while the other's waits on the database
        # (ADR 0049); the claim keeps one payment's events to one loop at a time (ADR 0045)
        state.webhook_worker = await stack.enter_async_context(
            running_webhook_worker(webhooks, workers=WEBHOOK_LOOPS)
        )
    if "merchant_webhooks" in work:
        state.merchant_webhooks = await stack.enter_async_context(
            running_merchant_webhooks(merchant_webhooks(container, settings))
        )
    publisher = container.integration_publisher()
    if "relay" in work and publisher is not None:  # NATS_URL set (ADR 0035)
        state.relay = await stack.enter_async_context(
            running_relay(
                container.event_store(),
                publisher,
                container.relay_checkpoint(),
                container.projection_locks(),
            )
        )
    if "notifications" in work:
        state.notifications = await stack.enter_async_context(
            running_notifications(notification_worker(container, settings))
        )
    if "channels" in work:
        state.channel_sync = await stack.enter_async_context(
            running_channel_sync(channel_sync(container), settings.pos_sync_seconds)
        )
    if "jobs" in work and pool is not None:  # jobs need PostgreSQL's locks and read models
        await stack.enter_async_context(
            running_jobs(JobDeps.from_container(container), container.projection_locks())
        )
