"""The integration event relay's adapters: NATS JetStream when NATS_URL is set (ADR 0035)."""

from __future__ import annotations

import asyncpg

from adapters.memory.relay import MemoryRelayCheckpoint
from adapters.nats import JetStreamPublisher
from adapters.postgres.relay_checkpoints import PostgresRelayCheckpoint
from commerce_core.integration.ports import IntegrationPublisher, RelayCheckpoint
from entrypoints.settings import Settings


def relay_checkpoint(pool: asyncpg.Pool | None) -> RelayCheckpoint:
    return MemoryRelayCheckpoint() if pool is None else PostgresRelayCheckpoint(pool)


def integration_publisher(settings: Settings) -> IntegrationPublisher | None:
    """None without NATS_URL: the relay is off (``make run`` needs no broker)."""
    if not settings.nats_url:
        return None
    return JetStreamPublisher(settings.nats_url, settings.nats_stream, settings.nats_subject_prefix)
