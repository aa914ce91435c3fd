"""Ports for gateway webhooks: the inbox that stores each event once, and a lookup.

``WebhookInbox`` is a durable queue keyed by (gateway, gateway event id). The HTTP
endpoint only verifies and ``add``s; workers ``claim_due`` events and ``mark_*``
the outcome. Delivery to workers is at least once: a claim is a lease, and a
worker that dies holding one leaves the event to be claimed again once the lease
ends, so the effect of processing must be idempotent (gateway events are, by
event id and by state).

``WebhookVerifier`` checks that a request comes from the gateway.
``WebhookTranslator`` turns a gateway's event into ours (``WebhookTranslation``: the
``GatewayEvent``s to record, a seller account's new state, or why nothing is to be done).
``PaymentTenants`` remembers which tenant a gateway payment belongs to, for the
events (refunds, disputes) that carry none of the metadata we sent. (A seller
account's state is kept on its ``Seller`` aggregate.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

import msgspec

from commerce_core.marketplace.ports import AccountUpdate
from commerce_core.ordering.order import DisputeOutcome
from commerce_core.shared.money import Money


class WebhookStatus(StrEnum):
    """``received``: waiting for its first attempt; ``failed``: an attempt failed and
    another is due at ``next_attempt_at``; ``processed``: done (applied, duplicate or
    ignored); ``dead``: given up on, until an operator retries it."""

    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    DEAD = "dead"


PENDING_STATUSES = frozenset({WebhookStatus.RECEIVED, WebhookStatus.FAILED})
"""The statuses a worker may claim."""


class ReceivedWebhook(msgspec.Struct, frozen=True, kw_only=True):
    """A verified event as it arrived: ``payload`` is the raw JSON body. ``tenant_id`` is
    set when the event came from a tenant's own gateway account (signed with that
    account's secret): it can then only concern that tenant."""

    gateway: str
    event_id: str
    type: str
    payload: bytes
    tenant_id: str | None = None
    ordering_key: str | None = None
    """Events with the same key (one gateway payment's) are processed one at a time, in
    the order they arrived (see ``WebhookInbox.claim_due``)."""


class StoredWebhook(msgspec.Struct, frozen=True, kw_only=True):
    """An event in the inbox.

    ``id`` is ours (for operators); ``seq`` orders events by arrival (list cursor).
    ``tenant_id``: the tenant whose own account sent it, else the tenant processing
    found it concerns (None until then, or if none).
    ``attempts`` counts claims, so it includes an attempt whose worker died.
    ``claim`` is the token of the current claim, if any. ``note`` says what
    processing did (``applied``, ``no change``, ``ignored: ...``).
    """

    id: UUID
    seq: int
    gateway: str
    event_id: str
    type: str
    payload: bytes
    status: WebhookStatus
    attempts: int
    received_at: datetime
    tenant_id: str | None = None
    next_attempt_at: datetime | None = None
    claim: UUID | None = None
    last_error: str | None = None
    note: str | None = None
    processed_at: datetime | None = None


class InvalidSignatureError(Exception):
    """The request is not signed by the gateway with a secret we hold, or too long ago."""


class WebhookVerifier(Protocol):
    """A gateway's webhook signature check.

    ``verify`` returns the event if ``signature`` (the value of the request's
    ``signature_header``) signs ``payload`` with one of ``secrets`` (default: the
    platform account's) and is recent enough; otherwise it raises
    ``InvalidSignatureError``. A signed payload that is not an event of the gateway
    raises ``ValueError``.
    """

    gateway: str
    signature_header: str

    def verify(
        self, payload: bytes, signature: str | None, secrets: Sequence[str] | None = None
    ) -> ReceivedWebhook: ...


class WebhookCounts(msgspec.Struct, frozen=True, kw_only=True):
    """How many events wait, failed or died; the oldest waiting one's arrival."""

    received: int = 0
    failed: int = 0
    dead: int = 0
    oldest_pending_at: datetime | None = None


class WebhookOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One attempt's outcome, for ``WebhookInbox.settle``: ``status`` processed (with
    ``note`` and ``processed_at``), failed (``error``, due again at ``next_attempt_at``)
    or dead (``error``, ``processed_at``); ``tenant_id`` the tenant it concerned, if known."""

    id: UUID
    claim: UUID
    status: WebhookStatus
    note: str | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    processed_at: datetime | None = None
    tenant_id: str | None = None


class WebhookInbox(Protocol):
    """Gateway events, each stored once and processed until done or dead.

    - ``add`` stores the event with status ``received``, due at once; returns False
      (changing nothing) when (gateway, event_id) is stored already.
    - ``claim_due`` atomically takes up to ``limit`` events that are ``received`` or
      ``failed`` and due (``next_attempt_at <= at``), oldest due first: each gets a new
      ``claim`` token, ``attempts + 1``, and is not due again before ``at + lease``.
      Concurrent claimers never take the same event (PostgreSQL: ``FOR UPDATE SKIP
      LOCKED``); an event whose lease ran out is due again. An event with an
      ``ordering_key`` is not taken while another event of that key is claimed (its
      lease running), nor while an earlier one (lower ``seq``) is due: one payment's
      events are processed one at a time, in arrival order, by all workers together;
      one that failed and waits for its retry does not hold up the later ones (a
      gateway sends events in any order, and a later one may be what it waits for).
    - ``mark_processed`` / ``mark_failed`` / ``mark_dead`` record an attempt's outcome
      if ``claim`` is still the event's claim token, and return whether they did (a
      worker whose lease ran out and whose event was claimed again changes nothing).
      ``mark_failed`` makes the event due at ``next_attempt_at``. ``tenant_id``, when
      given, records the tenant the event turned out to concern.
    - ``settle`` records several outcomes at once, each as ``mark_*`` would (only while
      its ``claim`` holds), and returns the ids it recorded: a worker writes a whole
      batch's outcomes in one statement.
    - ``get`` returns an event by our id, or None.
    - ``find`` returns events newest first (``seq`` descending), filtered by status
      and tenant when given (``tenantless``: only events no tenant owns), starting
      below ``before`` (a ``seq``).
    - ``retry`` makes a ``failed`` or ``dead`` event due at ``at`` (status ``received``,
      attempts back to 0, no claim); returns False for another status or no event.
    - ``counts`` counts events waiting, failed and dead.
    - ``purge_processed`` deletes up to ``limit`` processed events received before
      ``before`` (after that their ids are no longer deduplicated); returns how many.
    - ``wait_for_new`` returns when an event was added through this object (another
      process's are found by polling) or after ``max_wait`` seconds.
    """

    async def add(self, webhook: ReceivedWebhook, *, id: UUID, at: datetime) -> bool: ...

    async def claim_due(
        self, *, at: datetime, limit: int, lease: float, claim: UUID
    ) -> list[StoredWebhook]: ...

    async def mark_processed(
        self, id: UUID, claim: UUID, *, at: datetime, note: str, tenant_id: str | None = None
    ) -> bool: ...

    async def mark_failed(
        self,
        id: UUID,
        claim: UUID,
        *,
        error: str,
        next_attempt_at: datetime,
        tenant_id: str | None = None,
    ) -> bool: ...

    async def mark_dead(
        self, id: UUID, claim: UUID, *, at: datetime, error: str, tenant_id: str | None = None
    ) -> bool: ...

    async def settle(self, outcomes: Sequence[WebhookOutcome]) -> set[UUID]: ...

    async def get(self, id: UUID) -> StoredWebhook | None: ...

    async def find(
        self,
        *,
        status: WebhookStatus | None = None,
        tenant_id: str | None = None,
        tenantless: bool = False,
        before: int | None = None,
        limit: int = 50,
    ) -> list[StoredWebhook]: ...

    async def retry(self, id: UUID, *, at: datetime) -> bool: ...

    async def counts(self) -> WebhookCounts: ...

    async def purge_processed(self, *, before: datetime, limit: int = 10_000) -> int: ...

    async def wait_for_new(self, max_wait: float) -> None: ...


class PaymentTenants(Protocol):
    """Which tenant a gateway's payment belongs to, learnt from the platform's events
    with our metadata (never from a tenant's own account: ``process_webhook``).

    - ``remember`` records it; the first tenant recorded for a payment stays.
    - ``tenant_of`` returns it, or None when no event has told us yet.
    """

    async def remember(self, gateway: str, gateway_payment_id: str, tenant_id: str) -> None: ...

    async def tenant_of(self, gateway: str, gateway_payment_id: str) -> str | None: ...


class UnreadableWebhookError(ValueError):
    """The payload is not an event of its gateway; retrying cannot help."""


class WebhookFailedError(Exception):
    """Recording the event for ``tenant_id`` failed (the cause is chained); retry."""

    def __init__(self, message: str, tenant_id: str | None = None) -> None:
        super().__init__(message)
        self.tenant_id = tenant_id


class WebhookNotReadyError(WebhookFailedError):
    """The event cannot be recorded yet (its tenant, payment or refund is not known); retry."""


@dataclass(frozen=True)
class WebhookTranslation:
    """What a gateway event means to us.

    ``events`` to record (usually one; none when there is nothing to record);
    ``tenant_id`` and ``gateway_payment_id`` as the event names them; a seller
    account's new state; ``ignored`` says why nothing is to be recorded.
    """

    events: list[GatewayEvent] = field(default_factory=list)
    tenant_id: str | None = None
    gateway_payment_id: str | None = None
    seller_account: AccountUpdate | None = None
    ignored: str | None = None


class WebhookTranslator(Protocol):
    """A gateway's events in our terms; ``UnreadableWebhookError`` for a malformed one."""

    def translate(self, payload: bytes) -> WebhookTranslation: ...


class GatewayEventKind(StrEnum):
    PAYMENT_AUTHORIZED = "payment_authorized"
    PAYMENT_SUCCEEDED = "payment_succeeded"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_VOIDED = "payment_voided"
    REFUND_SUCCEEDED = "refund_succeeded"
    REFUND_FAILED = "refund_failed"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_CLOSED = "dispute_closed"


class GatewayEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One gateway event in our terms.

    - ``id``: the gateway's event id (deduplication).
    - ``amount``: for ``payment_succeeded`` the payment's **total** captured so
      far (default: all of it); for refunds the refund's amount; for disputes
      the disputed amount (default: all the payment has left).
    - ``code``: the decline or failure code (for a void, the decline of the
      payment's last attempt, if any); for disputes, the reason.
    - ``refund_id`` / ``gateway_refund_id``: which refund. ``refund_id`` is ours
      (the metadata we sent with it); one the payment lacks is recorded under that
      id (the gateway refunded but our save failed). A refund with only a gateway
      refund id we do not know was made at the gateway directly: recorded as new.
    - ``outcome``: how a closed dispute ended.
    - ``at``: when it happened at the gateway (default: now).
    """

    id: str
    kind: GatewayEventKind
    gateway_payment_id: str
    gateway: str = "stripe"
    payment_id: UUID | None = None
    at: datetime | None = None
    amount: Money | None = None
    gateway_fee: Money | None = None
    code: str | None = None
    refund_id: UUID | None = None
    gateway_refund_id: str | None = None
    dispute_id: str | None = None
    outcome: DisputeOutcome | None = None
