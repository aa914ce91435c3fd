"""The notification worker (ADR 0038): records the notifications of new order events,
then sends the due ones. It runs in the background work of each process
(``BACKGROUND_WORK`` part ``notifications``); several processes share the sending
through leases, and recording is idempotent (one notification per event and channel)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from commerce_core.eventstore import EventStore
from commerce_core.notifications.contacts import CustomerContacts
from commerce_core.notifications.pipeline import NotificationDeps, record_next, send_due
from entrypoints.container import Container
from entrypoints.polling import polling
from entrypoints.settings import Settings

IDLE = 0.5  # seconds between looks when there was nothing to do


@dataclass(frozen=True)
class NotificationWorker:
    """What the worker (and the tests that drive it step by step) need."""

    log: EventStore
    deps: NotificationDeps

    async def record(self) -> int:
        return await record_next(self.log, self.deps)

    async def send(self) -> int:
        return await send_due(self.deps)

    async def step(self) -> int:
        """Records what is new, then sends what is due; returns how much it did."""
        return await self.record() + await self.send()


def notification_worker(container: Container, settings: Settings) -> NotificationWorker:
    repo = container.repository()
    return NotificationWorker(
        log=container.event_store(),
        deps=NotificationDeps(
            notifications=container.notifications(),
            templates=container.notification_templates(),
            contacts=CustomerContacts(repo, container.keyring()),
            repo=repo,
            email=container.email_sender(),
            sms=container.sms_sender(),
            clock=container.clock(),
            ids=container.ids(),
            jitter=lambda: random.uniform(0.5, 1.0),
            links=settings.notification_link_base,
        ),
    )


@asynccontextmanager
async def running_notifications(worker: NotificationWorker) -> AsyncIterator[NotificationWorker]:
    async with polling(worker.step, name="notifications.worker", pause=IDLE):
        yield worker
