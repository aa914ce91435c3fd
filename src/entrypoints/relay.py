"""The integration event relay as background work: one process at a time, with backoff.

It runs when NATS_URL is set and BACKGROUND_WORK names ``relay``. A lock (the projections'
advisory locks) keeps a single relay publishing, so partitions stay in order across
processes; a broker error is recorded on the checkpoint (``GET /admin/relay``) and retried
after a delay that doubles up to ``MAX_BACKOFF``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import structlog

from commerce_core.eventstore import EventStore
from commerce_core.integration.ports import BrokerError, IntegrationPublisher, RelayCheckpoint
from commerce_core.integration.relay import Relay, RelayStatus, relay_status
from entrypoints.container import Container
from entrypoints.container.projections import LocksFactory
from entrypoints.http.metrics import MetricsRegistry

RELAY_NAME = "nats"
IDLE = 0.2  # seconds between reads once caught up
MAX_BACKOFF = 30.0

log = structlog.get_logger("relay")

Sleep = Callable[[float], Awaitable[None]]


def next_backoff(previous: float) -> float:
    return min(MAX_BACKOFF, max(0.5, previous * 2))


async def relay_forever(
    relay: Relay, checkpoint: RelayCheckpoint, sleep: Sleep = asyncio.sleep
) -> None:
    """Relays batch after batch; on an error, records it and waits longer each time."""
    delay = 0.0
    while True:
        try:
            passed = await relay.relay_batch()
        except BrokerError as error:
            delay = next_backoff(delay)
            log.warning("broker unavailable", error=str(error), retry_in=delay)
            await checkpoint.record_error(relay.name, str(error))
            await sleep(delay)
            continue
        except Exception as error:  # the store failed: same as the broker, it comes back
            delay = next_backoff(delay)
            log.exception("relay failed", retry_in=delay)
            await checkpoint.record_error(relay.name, f"{type(error).__name__}: {error}")
            await sleep(delay)
            continue
        delay = 0.0
        if not passed:
            await sleep(IDLE)


async def _hold_lock_and_relay(
    relay: Relay, checkpoint: RelayCheckpoint, locks: LocksFactory
) -> None:
    async with locks() as held:
        while True:
            lease = await held.try_acquire(f"relay:{relay.name}")
            if lease is None:  # another process relays; take over if it stops
                await asyncio.sleep(5)
                continue
            try:
                await relay_forever(relay, checkpoint)
            finally:
                await lease.release()


@asynccontextmanager
async def running_relay(
    store: EventStore,
    publisher: IntegrationPublisher,
    checkpoint: RelayCheckpoint,
    locks: LocksFactory,
) -> AsyncIterator[Relay]:
    relay = Relay(store, publisher, checkpoint, name=RELAY_NAME)
    task = asyncio.create_task(_hold_lock_and_relay(relay, checkpoint, locks), name="relay")
    try:
        yield relay
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        close = getattr(publisher, "close", None)
        if close is not None:
            await close()


async def current_status(container: Container) -> RelayStatus:
    return await relay_status(container.event_store(), container.relay_checkpoint(), RELAY_NAME)


def export_relay_metrics(metrics: MetricsRegistry, container: Container) -> None:
    """``relay_lag`` and ``relay_position`` (read from the checkpoint at each scrape) and
    ``relay_failing`` (1 while the last attempt failed)."""
    lag = metrics.gauge("relay_lag", "Stored events the integration event relay is behind")
    position = metrics.gauge("relay_position", "Global position the relay has published up to")
    failing = metrics.gauge("relay_failing", "1 while the relay's last attempt failed")

    async def collect() -> None:
        try:
            status = await current_status(container)
        except Exception:  # a scrape must answer even when the database does not
            log.warning("relay metrics unavailable", exc_info=True)
            return
        lag.set(status.lag)
        position.set(status.position.global_position)
        failing.set(1 if status.last_error else 0)

    metrics.on_collect(collect)
