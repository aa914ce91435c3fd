"""The webhook ports in memory: one process, one event loop (tests, ``EVENT_STORE=memory``)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from commerce_core.payments.ports.webhooks import (
    PENDING_STATUSES,
    ReceivedWebhook,
    StoredWebhook,
    WebhookCounts,
    WebhookOutcome,
    WebhookStatus,
)

S = WebhookStatus


class MemoryWebhookInbox:
    """Every method runs without awaiting in between, so each is atomic in its loop."""

    def __init__(self) -> None:
        self._events: dict[UUID, StoredWebhook] = {}
        self._keys: dict[tuple[str, str], UUID] = {}
        self._seq = itertools.count(1)
        self._added = asyncio.Event()
        self._ordering_keys: dict[UUID, str] = {}

    async def add(self, webhook: ReceivedWebhook, *, id: UUID, at: datetime) -> bool:
        key = (webhook.gateway, webhook.event_id)
        if key in self._keys:
            return False
        self._keys[key] = id
        if webhook.ordering_key is not None:
            self._ordering_keys[id] = webhook.ordering_key
        self._events[id] = StoredWebhook(
            id=id,
            seq=next(self._seq),
            gateway=webhook.gateway,
            event_id=webhook.event_id,
            type=webhook.type,
            payload=webhook.payload,
            status=S.RECEIVED,
            attempts=0,
            received_at=at,
            tenant_id=webhook.tenant_id,
            next_attempt_at=at,
        )
        self._added.set()
        return True

    async def claim_due(
        self, *, at: datetime, limit: int, lease: float, claim: UUID
    ) -> list[StoredWebhook]:
        pending = [e for e in self._events.values() if e.status in PENDING_STATUSES]
        due = sorted(
            (
                e
                for e in pending
                if e.next_attempt_at is not None
                and e.next_attempt_at <= at
                and not self._held_up(e, pending, at)
            ),
            key=lambda e: (e.next_attempt_at, e.seq),
        )[:limit]
        until = at + timedelta(seconds=lease)
        claimed = []
        for event in due:
            taken = self._replace(
                event, claim=claim, attempts=event.attempts + 1, next_attempt_at=until
            )
            claimed.append(taken)
        return claimed

    def _held_up(self, event: StoredWebhook, pending: list[StoredWebhook], at: datetime) -> bool:
        """Whether another event of its key is claimed, or earlier and due (see the port)."""
        key = self._ordering_keys.get(event.id)
        if key is None:
            return False
        for other in pending:
            if other.id == event.id or self._ordering_keys.get(other.id) != key:
                continue
            due = other.next_attempt_at is not None and other.next_attempt_at <= at
            if (other.seq < event.seq and due) or (other.claim is not None and not due):
                return True
        return False

    async def mark_processed(
        self, id: UUID, claim: UUID, *, at: datetime, note: str, tenant_id: str | None = None
    ) -> bool:
        return self._settle(
            id,
            claim,
            tenant_id,
            status=S.PROCESSED,
            note=note,
            processed_at=at,
            next_attempt_at=None,
        )

    async def mark_failed(
        self,
        id: UUID,
        claim: UUID,
        *,
        error: str,
        next_attempt_at: datetime,
        tenant_id: str | None = None,
    ) -> bool:
        return self._settle(
            id,
            claim,
            tenant_id,
            status=S.FAILED,
            last_error=error,
            next_attempt_at=next_attempt_at,
        )

    async def mark_dead(
        self, id: UUID, claim: UUID, *, at: datetime, error: str, tenant_id: str | None = None
    ) -> bool:
        return self._settle(
            id,
            claim,
            tenant_id,
            status=S.DEAD,
            last_error=error,
            processed_at=at,
            next_attempt_at=None,
        )

    async def get(self, id: UUID) -> StoredWebhook | None:
        return self._events.get(id)

    async def find(
        self,
        *,
        status: WebhookStatus | None = None,
        tenant_id: str | None = None,
        tenantless: bool = False,
        before: int | None = None,
        limit: int = 50,
    ) -> list[StoredWebhook]:
        found = [
            e
            for e in self._events.values()
            if (status is None or e.status == status)
            and (tenant_id is None or e.tenant_id == tenant_id)
            and (not tenantless or e.tenant_id is None)
            and (before is None or e.seq < before)
        ]
        return sorted(found, key=lambda e: e.seq, reverse=True)[:limit]

    async def retry(self, id: UUID, *, at: datetime) -> bool:
        event = self._events.get(id)
        if event is None or event.status not in (S.FAILED, S.DEAD):
            return False
        self._replace(
            event, status=S.RECEIVED, attempts=0, next_attempt_at=at, claim=None, processed_at=None
        )
        self._added.set()
        return True

    async def counts(self) -> WebhookCounts:
        waiting = [e for e in self._events.values() if e.status in PENDING_STATUSES]
        return WebhookCounts(
            received=sum(e.status == S.RECEIVED for e in waiting),
            failed=sum(e.status == S.FAILED for e in waiting),
            dead=sum(e.status == S.DEAD for e in self._events.values()),
            oldest_pending_at=min((e.received_at for e in waiting), default=None),
        )

    async def purge_processed(self, *, before: datetime, limit: int = 10_000) -> int:
        old = [
            e for e in self._events.values() if e.status == S.PROCESSED and e.received_at < before
        ][:limit]
        for event in old:
            del self._events[event.id]
            del self._keys[(event.gateway, event.event_id)]
        return len(old)

    async def wait_for_new(self, max_wait: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._added.wait(), max_wait)
        self._added.clear()

    async def settle(self, outcomes: Sequence[WebhookOutcome]) -> set[UUID]:
        settled = set()
        for o in outcomes:
            changes: dict[str, object] = {
                "status": o.status,
                "next_attempt_at": o.next_attempt_at,
                "processed_at": o.processed_at,
            }
            if o.note is not None:
                changes["note"] = o.note
            if o.error is not None:
                changes["last_error"] = o.error
            if self._settle(o.id, o.claim, o.tenant_id, **changes):
                settled.add(o.id)
        return settled

    def _settle(self, id: UUID, claim: UUID, tenant_id: str | None, **changes: object) -> bool:
        event = self._events.get(id)
        if event is None or event.claim != claim:
            return False
        changes["claim"] = None
        if tenant_id is not None:
            changes["tenant_id"] = tenant_id
        self._replace(event, **changes)
        return True

    def _replace(self, event: StoredWebhook, **changes: object) -> StoredWebhook:
        changed = msgspec.structs.replace(event, **changes)
        self._events[event.id] = changed
        return changed
