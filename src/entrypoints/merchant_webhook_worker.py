"""The merchant webhook worker (ADR 0036): one loop records the deliveries of new events
(the fan-out), one sends the due ones. Both run in the background work of each process
(``BACKGROUND_WORK`` part ``merchant_webhooks``); several processes share the sending
through leases, and the fan-out is idempotent (one delivery per endpoint and event)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from commerce_core.eventstore import EventStore
from commerce_core.merchant_webhooks.dispatch import DispatchDeps, deliver_due
from commerce_core.merchant_webhooks.fanout import FanOutDeps, ToWebhookEvents, fan_out_next
from commerce_core.merchant_webhooks.order_events import webhook_events_of
from commerce_core.merchant_webhooks.urls import UrlRules
from commerce_core.shared.ports.clock import Ids
from entrypoints.container import Container
from entrypoints.polling import polling
from entrypoints.settings import Settings

IDLE = 0.5  # seconds between looks when there was nothing to do


@dataclass(frozen=True)
class MerchantWebhooks:
    """What the worker (and the tests that drive it step by step) need."""

    log: EventStore
    to_webhook_events: ToWebhookEvents
    ids: Ids
    dispatch: DispatchDeps

    async def fan_out(self) -> int:
        d = self.dispatch
        deps = FanOutDeps(d.endpoints, d.deliveries, d.clock, self.ids)
        return await fan_out_next(self.log, self.to_webhook_events, deps)

    async def deliver(self) -> int:
        return await deliver_due(self.dispatch)

    async def step(self) -> int:
        """Fans out what is new, then sends what is due; returns how much it did."""
        return await self.fan_out() + await self.deliver()


def url_rules(settings: Settings) -> UrlRules:
    return UrlRules(
        allow_http=settings.webhook_allow_http, allow_private=settings.webhook_allow_private
    )


def merchant_webhooks(container: Container, settings: Settings) -> MerchantWebhooks:
    return MerchantWebhooks(
        log=container.event_store(),
        to_webhook_events=webhook_events_of,
        ids=container.ids(),
        dispatch=DispatchDeps(
            endpoints=container.webhook_endpoints(),
            deliveries=container.webhook_deliveries(),
            sender=container.webhook_sender(),
            resolver=container.host_resolver(),
            clock=container.clock(),
            rules=url_rules(settings),
            jitter=lambda: random.uniform(0.5, 1.0),
            timeout=settings.webhook_timeout,
        ),
    )


@asynccontextmanager
async def running_merchant_webhooks(hooks: MerchantWebhooks) -> AsyncIterator[MerchantWebhooks]:
    async with polling(hooks.step, name="merchant_webhooks.worker", pause=IDLE):
        yield hooks
