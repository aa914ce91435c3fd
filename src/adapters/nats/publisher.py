"""Integration events to a NATS JetStream stream, one message per event.

Subjects are ``<prefix>.<tenant id>.<type>`` (``commerce.<uuid>.order.paid``): a consumer of
one tenant subscribes to ``commerce.<uuid>.>``. The event id is the ``Nats-Msg-Id`` header, so the
server drops a copy published again within the stream's duplicate window (a relay restart
between the broker's ack and the checkpoint).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from commerce_core.integration import IntegrationEvent, encode_integration_event
from commerce_core.integration.ports import BrokerError

DUPLICATE_WINDOW = timedelta(hours=2)
"""How long the server remembers event ids: longer than any relay outage we retry through
without re-reading from the checkpoint (a restart re-publishes at most one batch)."""


def subject_of(prefix: str, event: IntegrationEvent) -> str:
    return f"{prefix}.{event.tenant}.{event.type.value}"


async def _ignore(error: Exception) -> None:
    return None


class JetStreamPublisher:
    """Publishes to the stream ``stream`` (created on first use if missing) on ``url``."""

    def __init__(
        self, url: str, stream: str, prefix: str = "commerce", timeout: float = 5.0
    ) -> None:
        self._url = url
        self.stream = stream
        self.prefix = prefix
        self._timeout = timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._connecting = asyncio.Lock()  # partitions publish side by side on one connection

    async def _jetstream(self) -> JetStreamContext:
        async with self._connecting:
            if self._js is None or self._nc is None or not self._nc.is_connected:
                await self._connect()
            assert self._js is not None
            return self._js

    async def _connect(self) -> None:
        await self.close()
        # nats-py retries a refused first connection on its own, without end: bound it
        async with asyncio.timeout(self._timeout):
            nc = await nats.connect(
                self._url,
                connect_timeout=self._timeout,
                allow_reconnect=False,
                error_cb=_ignore,  # errors reach the caller as BrokerError, not the log
            )
        js = nc.jetstream(timeout=self._timeout)
        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=self.stream,
                    subjects=[f"{self.prefix}.>"],
                    duplicate_window=DUPLICATE_WINDOW.total_seconds(),
                )
            )
        self._nc, self._js = nc, js

    async def publish(self, events: Sequence[IntegrationEvent]) -> None:
        try:
            js = await self._jetstream()
            for event in events:  # each after the previous one's ack: order within a partition
                await js.publish(
                    subject_of(self.prefix, event),
                    encode_integration_event(event),
                    stream=self.stream,
                    headers={"Nats-Msg-Id": str(event.id)},
                )
        except (NatsError, OSError, TimeoutError) as error:
            raise BrokerError(f"{type(error).__name__}: {error}") from error

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            await nc.close()
