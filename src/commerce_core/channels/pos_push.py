"""An order of ours shown on a POS (ADR 0040): the push, then the fulfilment state both
systems agree on, each change of it an external effect recorded before the POS is asked.

One ``PosPush`` per (tenant, POS, order), its id derived from them, so two sync
processes deciding the same push race on the stream's first append and one loses.

- ``PushRequested`` (the intent, with the idempotency key the POS deduplicates by), then
  ``Pushed`` (the POS's order id) or ``PushRefused`` (the POS said no: nothing was made).
- ``MirrorRequested`` (our status shown as a POS state, with its key), then ``Mirrored``
  or ``MirrorRefused``.
- ``SeenAtPos``: the POS's own change of the state, pulled; what we show next is compared
  with it, so the echo of a change never goes back where it came from.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from commerce_core.channels.ports import PosFulfilmentKind, PosFulfilmentState, PosOrderDraft
from commerce_core.ordering.order import OrderStatus
from commerce_core.shared.errors import DomainError

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/pos-pushes")


class PushState(StrEnum):
    REQUESTED = "requested"
    """Decided, the POS's answer not recorded yet: ask again with the same key."""
    PUSHED = "pushed"
    REFUSED = "refused"


class MirrorIntent(msgspec.Struct, frozen=True, kw_only=True):
    """A POS state we decided to show, recorded before the POS is asked."""

    key: str
    status: OrderStatus
    state: PosFulfilmentState
    requested_at: datetime


class PushInProgressError(DomainError):
    """The push or a mirror of it is still waiting for the POS's answer."""


def pos_push_id(tenant_id: str, pos: str, order_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"{tenant_id}\x00{pos}\x00{order_id}")


class PosPush(Aggregate):
    tenant_id: str
    pos: str
    order_id: UUID
    kind: PosFulfilmentKind
    draft: PosOrderDraft
    key: str
    state: PushState
    external_id: str | None
    pos_state: PosFulfilmentState
    """The fulfilment state the POS shows, as far as we know (ours or its own)."""
    mirrors: int
    pending: MirrorIntent | None
    last_error: str | None
    updated_at: datetime

    @classmethod
    def request(
        cls, tenant_id: str, pos: str, order_id: UUID, draft: PosOrderDraft, at: datetime
    ) -> PosPush:
        """The decision to create ``draft`` in the POS; the key is derived from this push's
        id, so every retry (another process, after a crash) asks with the same one."""
        push_id = pos_push_id(tenant_id, pos, order_id)
        return cls(
            id=push_id,
            tenant_id=tenant_id,
            pos=pos,
            order_id=order_id,
            draft=draft,
            key=f"push-{push_id}",
            at=at,
        )

    @event("PushRequested")
    def __init__(
        self,
        id: UUID,
        tenant_id: str,
        pos: str,
        order_id: UUID,
        draft: PosOrderDraft,
        key: str,
        at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.pos = pos
        self.order_id = order_id
        self.kind = draft.kind
        self.draft = draft
        self.key = key
        self.state = PushState.REQUESTED
        self.external_id = None
        self.pos_state = PosFulfilmentState.PROPOSED  # what a pushed order starts as
        self.mirrors = 0
        self.pending = None
        self.last_error = None
        self.updated_at = at

    def record_pushed(self, external_id: str, at: datetime) -> None:
        if self.state is PushState.REQUESTED:
            self._pushed(external_id=external_id, at=at)

    @event("Pushed")
    def _pushed(self, external_id: str, at: datetime) -> None:
        self.state = PushState.PUSHED
        self.external_id = external_id
        self.updated_at = at

    def record_refused(self, error: str, at: datetime) -> None:
        """The POS refused the push or the pending mirror: nothing changed there."""
        if self.state is PushState.REQUESTED:
            self._push_refused(error=error[:500], at=at)
        elif self.pending is not None:
            self._mirror_refused(key=self.pending.key, error=error[:500], at=at)

    @event("PushRefused")
    def _push_refused(self, error: str, at: datetime) -> None:
        self.state = PushState.REFUSED
        self.last_error = error
        self.updated_at = at

    def wanted(self, state: PosFulfilmentState | None) -> bool:
        """Whether showing ``state`` would change what the POS shows."""
        return self.state is PushState.PUSHED and state is not None and state != self.pos_state

    def request_mirror(self, status: OrderStatus, state: PosFulfilmentState, at: datetime) -> None:
        """The decision to show ``state`` for our ``status``, keyed by its place in this
        push's history (so a retry asks with the same key and a later change with another)."""
        if self.state is not PushState.PUSHED or self.pending is not None:
            raise PushInProgressError(f"the push {self.id} waits for the POS's answer")
        key = f"mirror-{self.id}-{self.mirrors + 1}"
        self._mirror_requested(
            intent=MirrorIntent(key=key, status=status, state=state, requested_at=at), at=at
        )

    @event("MirrorRequested")
    def _mirror_requested(self, intent: MirrorIntent, at: datetime) -> None:
        self.pending = intent
        self.mirrors += 1
        self.updated_at = at

    def record_mirrored(self, key: str, at: datetime) -> None:
        if self.pending is not None and self.pending.key == key:
            self._mirrored(key=key, state=self.pending.state, at=at)

    @event("Mirrored")
    def _mirrored(self, key: str, state: PosFulfilmentState, at: datetime) -> None:
        self.pending = None
        self.pos_state = state
        self.last_error = None
        self.updated_at = at

    @event("MirrorRefused")
    def _mirror_refused(self, key: str, error: str, at: datetime) -> None:
        self.pending = None
        self.last_error = error
        self.updated_at = at

    def record_seen(self, state: PosFulfilmentState, at: datetime) -> bool:
        """The POS shows ``state`` (changed at the till); whether that is news."""
        if state == self.pos_state:
            return False
        self._seen(state=state, at=at)
        return True

    @event("SeenAtPos")
    def _seen(self, state: PosFulfilmentState, at: datetime) -> None:
        self.pos_state = state
        self.updated_at = at
