"""The webhook worker: claims due events from the inbox, processes them, retries, gives up.

One loop per worker: claim up to ``batch_size`` due events (a lease of ``lease``
seconds each), read what they need together (ADR 0049: their payments, orders and
stock in three reads), process them concurrently (``wave`` started per turn of the
event loop; their appends stored together), write all their outcomes in one
statement, and when fewer than a full batch were due, wait for an event stored in
this process or ``poll_interval`` seconds (events stored by other processes). Any number of
workers, in any processes, share the inbox: a claim never hands one event to two
of them while its lease runs.

Outcomes: processed (``note`` says how); a failure is retried after a backoff
that grows from ``first_delay`` by ``factor`` up to ``max_delay`` (a lost
optimistic-concurrency race within half a second), and after ``max_attempts``
attempts the event is ``dead`` until an operator retries it; an unreadable event
is dead at once. A worker stopped (or killed) while processing leaves its claims
to run out; the events are then claimed again, and processing them again is
harmless because recording gateway events is idempotent. An event whose claims
keep ending that way is dead once it has used up its attempts.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID, uuid4

import structlog

from commerce_core.eventstore import ConcurrencyError, Repository
from commerce_core.payments.ports.webhooks import (
    StoredWebhook,
    UnreadableWebhookError,
    WebhookFailedError,
    WebhookOutcome,
    WebhookStatus,
)
from commerce_core.payments.webhooks.batch import preload_batch
from entrypoints.webhooks import Webhooks

log = structlog.get_logger("webhooks.worker")

_MAX_ERROR = 2000  # characters of an error kept on the event


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and the backoff between them (seconds); the default spans about 4 hours."""

    max_attempts: int = 10
    first_delay: float = 1.0
    factor: float = 3.0
    max_delay: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt."""
        seconds = self.first_delay * self.factor ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.max_delay))


@dataclass(frozen=True)
class WorkerOptions:
    """``retention``: how long processed events are kept (their ids deduplicated;
    Stripe redelivers for 3 days), purged every ``purge_every`` seconds; ``wave``: how
    many of a batch's events start per turn of the event loop (``_attempts``)."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    batch_size: int = 64
    wave: int = 8
    lease: float = 60.0
    poll_interval: float = 0.5
    error_backoff: float = 1.0
    retention: timedelta = timedelta(days=30)
    purge_every: float = 3600.0


class WebhookWorker:
    """Processes the inbox's due events; ``run_once`` is one claim-and-process round."""

    def __init__(self, webhooks: Webhooks, options: WorkerOptions | None = None) -> None:
        self._webhooks = webhooks
        self._inbox = webhooks.inbox
        self._clock = webhooks.clock
        self.options = options or WorkerOptions()
        self._next_purge = self._clock.now()

    async def run_once(self) -> int:
        """Claims due events and processes them; returns how many it claimed."""
        claim = uuid4()
        options = self.options
        due = await self._inbox.claim_due(
            at=self._clock.now(), limit=options.batch_size, lease=options.lease, claim=claim
        )
        if not due:
            return 0
        repos = await self._preload(due)
        outcomes = await self._attempts(due, claim, repos)
        for event, outcome in zip(due, outcomes, strict=True):
            self._webhooks.count_outcome(event.gateway, str(outcome.status))
        try:
            settled = await self._inbox.settle(outcomes)
        except Exception:  # the leases run out and the events are claimed again
            log.exception("webhook outcomes not stored", count=len(outcomes))
            return len(due)
        if len(settled) < len(outcomes):
            lost = [str(o.id) for o in outcomes if o.id not in settled]
            log.warning("webhook claims lost before their outcomes were stored", ids=lost)
        return len(due)

    async def run(self) -> None:
        """Works until cancelled; storage errors are logged and retried after a pause."""
        while True:
            try:
                await self._purge()
                claimed = await self.run_once()
            except Exception:
                log.exception("webhook worker round failed")
                await asyncio.sleep(self.options.error_backoff)
                continue
            if claimed < self.options.batch_size:
                await self._inbox.wait_for_new(self.options.poll_interval)

    async def _attempts(
        self, due: list[StoredWebhook], claim: UUID, repos: dict[UUID, Repository]
    ) -> list[WebhookOutcome]:
        """Every event processed side by side, started ``wave`` at a time, one wave per turn
        of the event loop: an event runs from its preloaded reads to its append without a
        pause, so starting all at once would keep the process's other work (its HTTP
        requests) waiting for the whole batch's CPU. The appends still go together as
        they come (``JointAppends``)."""
        tasks: list[asyncio.Task[WebhookOutcome]] = []
        wave = max(self.options.wave, 1)
        try:
            for start in range(0, len(due), wave):
                tasks += [
                    asyncio.create_task(self._attempt(event, claim, repos.get(event.id)))
                    for event in due[start : start + wave]
                ]
                await asyncio.sleep(0)  # this wave runs before the next one starts
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            raise

    async def _preload(self, due: list[StoredWebhook]) -> dict[UUID, Repository]:
        """The batch's payments, orders and stock read together (ADR 0049); if that
        fails, each event reads its own, as without a batch."""
        processing = self._webhooks.processing
        try:
            return await preload_batch(
                processing.repo, processing.translators, processing.payment_tenants, due
            )
        except Exception:
            log.warning("webhook batch not preloaded", exc_info=True)
            return {}

    async def _attempt(
        self, event: StoredWebhook, claim: UUID, repo: Repository | None
    ) -> WebhookOutcome:
        """The event processed, and the outcome to store (never raises)."""
        policy = self.options.policy
        if event.attempts > policy.max_attempts:
            error = f"gave up after {event.attempts - 1} attempts (some were interrupted)"
            return self._dead(event, claim, error, None)
        try:
            done = await self._webhooks.process(event, repo)
        except UnreadableWebhookError as error:
            return self._give_up(event, claim, error)
        except Exception as error:
            if event.attempts >= policy.max_attempts:
                return self._give_up(event, claim, error)
            delay = policy.delay(event.attempts)
            if isinstance(error.__cause__, ConcurrencyError):  # lost a race: try again soon
                delay = min(delay, timedelta(seconds=random.uniform(0.05, 0.5)))
            log.info("webhook failed", event_id=event.event_id, error=repr(error))
            return WebhookOutcome(
                id=event.id,
                claim=claim,
                status=WebhookStatus.FAILED,
                error=_describe(error),
                next_attempt_at=self._clock.now() + delay,
                tenant_id=_tenant(error),
            )
        return WebhookOutcome(
            id=event.id,
            claim=claim,
            status=WebhookStatus.PROCESSED,
            note=done.note,
            processed_at=self._clock.now(),
            tenant_id=done.tenant_id,
        )

    def _give_up(self, event: StoredWebhook, claim: UUID, error: Exception) -> WebhookOutcome:
        log.warning("webhook dead", event_id=event.event_id, type=event.type, error=repr(error))
        return self._dead(event, claim, _describe(error), _tenant(error))

    def _dead(
        self, event: StoredWebhook, claim: UUID, error: str, tenant_id: str | None
    ) -> WebhookOutcome:
        return WebhookOutcome(
            id=event.id,
            claim=claim,
            status=WebhookStatus.DEAD,
            error=error,
            processed_at=self._clock.now(),
            tenant_id=tenant_id,
        )

    async def _purge(self) -> None:
        now = self._clock.now()
        if now < self._next_purge:
            return
        self._next_purge = now + timedelta(seconds=self.options.purge_every)
        purged = await self._inbox.purge_processed(before=now - self.options.retention)
        if purged:
            log.info("purged processed webhooks", count=purged)


def _tenant(error: Exception) -> str | None:
    return error.tenant_id if isinstance(error, WebhookFailedError) else None


def _describe(error: Exception) -> str:
    text = f"{type(error).__name__}: {error}"
    return text[:_MAX_ERROR]


@asynccontextmanager
async def running_webhook_worker(
    webhooks: Webhooks, options: WorkerOptions | None = None, *, workers: int = 1
) -> AsyncIterator[WebhookWorker]:
    """Runs ``workers`` loops on the inbox until the block ends (then cancels them; the
    events they held are claimed again once their leases run out)."""
    worker = WebhookWorker(webhooks, options)
    tasks = [asyncio.create_task(worker.run(), name=f"webhook-worker-{n}") for n in range(workers)]
    try:
        yield worker
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
