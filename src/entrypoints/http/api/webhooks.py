"""Gateway webhooks: POST /webhooks/{gateway}, GET /webhooks/health, and their admin routes.

``POST /webhooks/{gateway}`` (no API key: the gateway's signature instead) checks
the signature over the raw body, stores the event once per event id and answers
200 at once; a worker records it (``entrypoints.webhook_worker``). A repeated
event id answers 200 too (``duplicate: true``) and changes nothing. A signed event with
a NUL character (which PostgreSQL cannot store) is refused with 400 ``bad-request``, as
is a body nested deeper than ``json_body.MAX_DEPTH``.
``POST /webhooks/{gateway}/{tenant_id}`` does the same for a tenant's own gateway
account, with that account's webhook secret.

``GET /admin/webhooks?status=`` lists the caller's tenant's events, newest first,
and ``POST /admin/webhooks/{id}/retry`` makes a failed or dead one due again
(admin keys). Events no tenant owns (their tenant is not known, or never will be)
are the operators': an operator key sees and retries those, and only those.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, Parameter

from commerce_core.payments.ports.webhooks import (
    InvalidSignatureError,
    StoredWebhook,
    WebhookStatus,
)
from commerce_core.payments.webhooks.processing import ordering_key
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.auth import Principal
from entrypoints.http.json_body import MAX_DEPTH, nesting_depth
from entrypoints.http.openapi import problem_responses, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import tenant_of
from entrypoints.http.text_guard import contains_nul
from entrypoints.webhooks import Webhooks, build_webhooks

MAX_BIGINT = 2**63 - 1
DEGRADED_AFTER = 300.0  # seconds the oldest waiting event may wait before health says so


def provide_webhooks(request: Request[Any, Any, Any]) -> Webhooks:
    """The app's webhook parts (``app.state.webhooks``, set by its lifespan), else made
    here on first use from its container."""
    state = request.app.state
    webhooks: Webhooks | None = state.get("webhooks")
    if webhooks is None:
        container = state.container
        webhooks = build_webhooks(container)
        state.webhooks = webhooks
    return webhooks


class WebhookReceived(msgspec.Struct):
    received: bool
    duplicate: bool


class WebhookHealth(msgspec.Struct):
    """``degraded`` when events died or the oldest waiting one waited too long."""

    status: Literal["ok", "degraded"]
    received: int
    failed: int
    dead: int
    oldest_pending_seconds: float | None


class WebhookOut(msgspec.Struct):
    id: UUID
    gateway: str
    event_id: str
    type: str
    status: WebhookStatus
    attempts: int
    received_at: datetime
    next_attempt_at: datetime | None
    last_error: str | None
    note: str | None
    processed_at: datetime | None

    @classmethod
    def of(cls, event: StoredWebhook) -> WebhookOut:
        return cls(
            id=event.id,
            gateway=event.gateway,
            event_id=event.event_id,
            type=event.type,
            status=event.status,
            attempts=event.attempts,
            received_at=event.received_at,
            next_attempt_at=event.next_attempt_at,
            last_error=event.last_error,
            note=event.note,
            processed_at=event.processed_at,
        )


class WebhookDetailOut(WebhookOut):
    payload: Any = None


class WebhookPage(msgspec.Struct):
    items: list[WebhookOut]
    next_cursor: str | None


_PROVIDE = {"webhooks": Provide(provide_webhooks, sync_to_thread=False)}


class WebhooksController(Controller):
    """Routes the gateways call; ``/api/v1/webhooks/*`` needs no API key."""

    path = "/webhooks"
    tags = ["payments"]
    dependencies = _PROVIDE

    @post(
        "/{gateway:str}",
        summary="Receive a gateway event",
        status_code=200,
        responses=problem_responses(
            [
                "invalid-signature",
                "bad-request",
                "not-found",
                "validation-error",
                "service-unavailable",
            ]
        ),
    )
    async def receive(
        self,
        gateway: FromPath[str],
        request: Request[Any, Any, Any],
        webhooks: NamedDependency[Webhooks],
    ) -> WebhookReceived:
        """An event of the platform's account at the gateway (raw body, signed: for
        Stripe the ``Stripe-Signature`` header). Stored once per event id and answered at
        once; processed in the background. 400 ``invalid-signature`` for a missing,
        wrong or stale signature."""
        return await _receive(webhooks, gateway, request, None)

    @post(
        "/{gateway:str}/{tenant_id:uuid}",
        summary="Receive a tenant's gateway event",
        status_code=200,
        responses=problem_responses(
            [
                "invalid-signature",
                "bad-request",
                "not-found",
                "validation-error",
                "service-unavailable",
            ]
        ),
    )
    async def receive_for_tenant(
        self,
        gateway: FromPath[str],
        tenant_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        webhooks: NamedDependency[Webhooks],
    ) -> WebhookReceived:
        """An event of a tenant's own account at the gateway (``PUT
        /admin/gateways/{gateway}``), signed with that account's webhook secret. It can
        only concern that tenant."""
        return await _receive(webhooks, gateway, request, tenant_id)

    @get(
        "/health",
        summary="Show webhook processing health",
        responses=problem_responses(["service-unavailable"]),
    )
    async def health(self, webhooks: NamedDependency[Webhooks]) -> WebhookHealth:
        """How many events wait, failed (and will be retried) or died, across tenants."""
        counts = await webhooks.inbox.counts()
        waited = None
        if counts.oldest_pending_at is not None:
            waited = (webhooks.clock.now() - counts.oldest_pending_at).total_seconds()
        degraded = counts.dead > 0 or (waited or 0.0) > DEGRADED_AFTER
        return WebhookHealth(
            status="degraded" if degraded else "ok",
            received=counts.received,
            failed=counts.failed,
            dead=counts.dead,
            oldest_pending_seconds=waited,
        )


async def _receive(
    webhooks: Webhooks, gateway: str, request: Request[Any, Any, Any], tenant_id: UUID | None
) -> WebhookReceived:
    verifier = webhooks.verifiers.get(gateway)
    if verifier is None:
        raise problem(404, "not-found", f"no webhooks for gateway {gateway!r}")
    secrets = None
    if tenant_id is not None:
        # a tenant without its own account gets the same answer as a bad signature
        secret = None
        if webhooks.tenant_secret is not None:
            secret = await webhooks.tenant_secret(tenant_id, gateway)
        secrets = [secret] if secret else []
    body = await request.body()
    if nesting_depth(body) > MAX_DEPTH:  # before any parser recurses into it
        raise problem(400, "bad-request", f"the body nests deeper than {MAX_DEPTH} levels")
    signature = request.headers.get(verifier.signature_header)
    try:
        event = verifier.verify(body, signature, secrets)
    except InvalidSignatureError as error:
        webhooks.count_delivery(gateway, "invalid_signature")
        raise problem(400, "invalid-signature", str(error)) from None
    except ValueError as error:
        raise problem(422, "validation-error", str(error)) from None
    if contains_nul(body):  # PostgreSQL stores no NUL in text or jsonb; no event needs one
        raise problem(400, "bad-request", "the event holds a NUL character")
    if tenant_id is not None:
        event = msgspec.structs.replace(event, tenant_id=str(tenant_id))
    key = ordering_key(webhooks.processing.translators, event)
    event = msgspec.structs.replace(event, ordering_key=key)
    added = await webhooks.inbox.add(event, id=webhooks.ids.new_id(), at=webhooks.clock.now())
    webhooks.count_delivery(gateway, "stored" if added else "duplicate")
    return WebhookReceived(received=True, duplicate=not added)


def _cursor(raw: str | None) -> int | None:
    """The sequence number a page ended at; the inbox's is a PostgreSQL bigint."""
    if not raw:
        return None
    seq = int(raw) if raw.isascii() and raw.isdigit() else -1
    if not 0 <= seq <= MAX_BIGINT:
        raise problem(422, "validation-error", "cursor is not one this API returned")
    return seq


class WebhooksAdminController(Controller):
    """The caller's tenant's webhook events (admin keys); the tenantless ones (operators)."""

    path = "/admin/webhooks"
    tags = ["admin"]
    dependencies = _PROVIDE

    @get("/", summary="List webhook events", responses=query_problems("forbidden"))
    async def list_webhooks(
        self,
        webhooks: NamedDependency[Webhooks],
        principal: NamedDependency[Principal],
        status: WebhookStatus | None = None,
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=32)] = None,
    ) -> WebhookPage:
        """Newest first; ``status=failed`` or ``dead`` for the ones needing attention."""
        operator = principal.role is Role.OPERATOR
        events = await webhooks.inbox.find(
            status=status,
            tenant_id=None if operator else tenant_of(principal),
            tenantless=operator,
            before=_cursor(cursor),
            limit=limit,
        )
        next_cursor = str(events[-1].seq) if len(events) == limit else None
        return WebhookPage([WebhookOut.of(e) for e in events], next_cursor)

    @get(
        "/{webhook_id:uuid}",
        summary="Show a webhook event",
        responses=query_problems("forbidden", "not-found"),
    )
    async def get_webhook(
        self,
        webhook_id: FromPath[UUID],
        webhooks: NamedDependency[Webhooks],
        principal: NamedDependency[Principal],
    ) -> WebhookDetailOut:
        """One event, with the payload the gateway sent."""
        event = await _owned(webhooks, webhook_id, principal)
        out = WebhookOut.of(event)
        payload = msgspec.json.decode(event.payload)
        return WebhookDetailOut(**msgspec.structs.asdict(out), payload=payload)

    @post(
        "/{webhook_id:uuid}/retry",
        summary="Retry a webhook event",
        status_code=202,
        responses=query_problems("forbidden", "not-found", "conflict"),
    )
    async def retry(
        self,
        webhook_id: FromPath[UUID],
        webhooks: NamedDependency[Webhooks],
        principal: NamedDependency[Principal],
    ) -> WebhookOut:
        """Makes a failed or dead event due now, with its attempts counted afresh;
        409 ``conflict`` for one that is waiting or processed."""
        event = await _owned(webhooks, webhook_id, principal)
        if not await webhooks.inbox.retry(event.id, at=webhooks.clock.now()):
            raise problem(409, "conflict", f"the event is {event.status}, not failed or dead")
        retried = await webhooks.inbox.get(event.id)
        assert retried is not None
        return WebhookOut.of(retried)


async def _owned(webhooks: Webhooks, webhook_id: UUID, principal: Principal) -> StoredWebhook:
    event = await webhooks.inbox.get(webhook_id)
    owner = None if principal.role is Role.OPERATOR else tenant_of(principal)
    if event is None or event.tenant_id != owner:
        raise problem(404, "not-found", f"no webhook event {webhook_id}")
    return event
