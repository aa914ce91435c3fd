"""Merchant webhook endpoints and their deliveries (ADR 0036). Admins change them; staff
may read them. A signing secret appears once, in the answer that made it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath

from commerce_core.merchant_webhooks import services as hooks
from commerce_core.merchant_webhooks.deliveries import Delivery, DeliveryStatus
from commerce_core.merchant_webhooks.endpoints import EndpointStatus, WebhookEndpoint
from commerce_core.merchant_webhooks.events import MAX_PATTERNS
from commerce_core.merchant_webhooks.ports import DeliveryKey
from commerce_core.merchant_webhooks.urls import MAX_URL_LENGTH
from entrypoints.http.api import cursors
from entrypoints.http.api.customer_list import CursorQuery, Limit
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, example_body, query_problems
from entrypoints.http.sealed_responses import names_customer
from entrypoints.http.services import Services
from entrypoints.merchant_webhook_worker import url_rules

_Url = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_URL_LENGTH)]
_Pattern = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
_Events = Annotated[list[_Pattern], msgspec.Meta(min_length=1, max_length=MAX_PATTERNS)]
_Description = Annotated[str, msgspec.Meta(max_length=500)]


class EndpointIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: _Url
    events: _Events
    description: _Description | None = None


class EndpointChangeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    url: _Url | None = None
    events: _Events | None = None
    description: _Description | None = None
    enabled: bool | None = None


class EndpointOut(msgspec.Struct, kw_only=True):
    id: UUID
    url: str
    events: list[str]
    description: str | None
    status: EndpointStatus
    notice: str | None
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint, now: datetime) -> EndpointOut:
        until = endpoint.secrets.previous_until
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=endpoint.events,
            description=endpoint.description,
            status=endpoint.status,
            notice=endpoint.notice,
            created_at=endpoint.created_at,
            updated_at=endpoint.updated_at,
            previous_secret_expires_at=until if until and until > now else None,
        )


class EndpointWithSecretOut(EndpointOut, kw_only=True):
    secret: str
    """Shown in this answer only: keep it to verify ``Commerce-Signature``."""


class EndpointList(msgspec.Struct, kw_only=True):
    items: list[EndpointOut]
    next_cursor: str | None = None


class AttemptOut(msgspec.Struct, kw_only=True):
    number: int
    at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    response_body: str | None


class DeliveryOut(msgspec.Struct, kw_only=True):
    id: UUID
    endpoint_id: UUID
    event_id: UUID
    event_type: str
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            endpoint_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=delivery.status,
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at
            if delivery.status is DeliveryStatus.PENDING
            else None,
            attempts=[
                AttemptOut(
                    number=a.number,
                    at=a.at,
                    status_code=a.status_code,
                    duration_ms=a.duration_ms,
                    error=a.error,
                    response_body=a.response_body,
                )
                for a in delivery.attempts
            ],
        )


class DeliveryList(msgspec.Struct, kw_only=True):
    items: list[DeliveryOut]
    next_cursor: str | None = None


ENDPOINT = Body(
    examples=example_body(
        (
            "Every order event",
            {
                "url": "https://shop.example.com/hooks/commerce",
                "events": ["order.*"],
                "description": "order sync to the warehouse",
            },
        ),
        ("Payments only", {"url": "https://erp.example.com/in", "events": ["payment.captured"]}),
    )
)
ENDPOINT_CHANGE = Body(
    examples=example_body(
        ("Enable again after a fix", {"enabled": True}),
        ("Listen to more events", {"events": ["order.*", "payment.*"]}),
    )
)


def _deps(request: Request[Any, Any, Any], services: Services) -> hooks.EndpointDeps:
    container = request.app.state.container
    return hooks.EndpointDeps(
        endpoints=container.webhook_endpoints(),
        deliveries=container.webhook_deliveries(),
        clock=services.clock,
        ids=services.ids,
        rules=url_rules(container.settings()),
    )


async def _sealed_secret(
    request: Request[Any, Any, Any], services: Services, endpoint: WebhookEndpoint
) -> None:
    # An Idempotency-Key keeps this answer for a replay: it holds the secret, so it is
    # kept sealed under the endpoint's own data key (forgotten when it is deleted).
    await services.keyring.create_key(endpoint.id)
    names_customer(request, endpoint.id)


class WebhookEndpointsController(Controller):
    path = "/webhook-endpoints"
    tags = ["webhooks"]

    @post(
        "/",
        summary="Register a webhook endpoint",
        responses=command_problems("forbidden", "webhook-endpoint-limit"),
    )
    async def register(
        self,
        data: Annotated[EndpointIn, ENDPOINT],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> EndpointWithSecretOut:
        """Registers an endpoint that receives the tenant's events matching `events`
        (`*`, a family such as `order.*`, or a type such as `order.paid`), signed with
        `Commerce-Signature` (admin). The answer holds the signing `secret`: it is
        shown this once and stored encrypted. `url` must be https on a public address."""
        deps = _deps(request, services)
        command = hooks.RegisterEndpoint(
            url=data.url, events=data.events, description=data.description
        )
        endpoint, secret = await hooks.register(deps, str(principal.tenant_id), command)
        await _sealed_secret(request, services, endpoint)
        out = EndpointOut.of(endpoint, services.clock.now())
        return EndpointWithSecretOut(**msgspec.structs.asdict(out), secret=secret)

    @get("/", summary="List webhook endpoints", responses=query_problems("forbidden"))
    async def list_endpoints(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> EndpointList:
        """The tenant's endpoints, oldest first, without their secrets (admin, staff)."""
        endpoints = await _deps(request, services).endpoints.list(str(principal.tenant_id))
        now = services.clock.now()
        return EndpointList(items=[EndpointOut.of(e, now) for e in endpoints])

    @get(
        "/{endpoint_id:uuid}",
        summary="Show a webhook endpoint",
        responses=query_problems("forbidden", "not-found"),
    )
    async def show(
        self,
        endpoint_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> EndpointOut:
        """One endpoint, without its secret; `notice` says why the service disabled it
        (admin, staff)."""
        deps = _deps(request, services)
        endpoint = await hooks.endpoint_of(deps, str(principal.tenant_id), endpoint_id)
        return EndpointOut.of(endpoint, services.clock.now())

    @patch(
        "/{endpoint_id:uuid}",
        summary="Change a webhook endpoint",
        responses=command_problems("forbidden", "not-found"),
    )
    async def change(
        self,
        endpoint_id: FromPath[UUID],
        data: Annotated[EndpointChangeIn, ENDPOINT_CHANGE],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> EndpointOut:
        """Changes the URL, events, description, or `enabled` (admin). Enabling a
        disabled endpoint clears its notice; its failed deliveries stay failed until
        retried (`POST /webhook-deliveries/{id}/retry`)."""
        command = hooks.ChangeEndpoint(
            url=data.url, events=data.events, description=data.description, enabled=data.enabled
        )
        deps = _deps(request, services)
        endpoint = await hooks.change(deps, str(principal.tenant_id), endpoint_id, command)
        return EndpointOut.of(endpoint, services.clock.now())

    @delete(
        "/{endpoint_id:uuid}",
        summary="Delete a webhook endpoint",
        responses=command_problems("forbidden", "not-found"),
    )
    async def remove(
        self,
        endpoint_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> None:
        """Deletes the endpoint and its deliveries; nothing more is sent to it (admin)."""
        await hooks.remove(_deps(request, services), str(principal.tenant_id), endpoint_id)
        await services.keyring.forget(endpoint_id)

    @post(
        "/{endpoint_id:uuid}/rotate-secret",
        status_code=200,
        summary="Rotate a webhook endpoint's signing secret",
        responses=command_problems("forbidden", "not-found"),
    )
    async def rotate(
        self,
        endpoint_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> EndpointWithSecretOut:
        """A new signing secret, shown this once (admin). Until
        `previous_secret_expires_at` (24 hours) deliveries carry two `v1=` signatures,
        by the new secret and the previous one, so receivers can switch without loss."""
        deps = _deps(request, services)
        endpoint, secret = await hooks.rotate_secret(deps, str(principal.tenant_id), endpoint_id)
        await _sealed_secret(request, services, endpoint)
        out = EndpointOut.of(endpoint, services.clock.now())
        return EndpointWithSecretOut(**msgspec.structs.asdict(out), secret=secret)

    @get(
        "/{endpoint_id:uuid}/deliveries",
        summary="List an endpoint's deliveries",
        responses=query_problems("forbidden", "not-found", "validation-error"),
    )
    async def deliveries(
        self,
        endpoint_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        status: DeliveryStatus | None = None,
        limit: Limit = 50,
        cursor: CursorQuery = None,
    ) -> DeliveryList:
        """The endpoint's deliveries, newest first, each with every attempt (status
        code, duration, error, the start of the answer); `status` filters; pages with
        `limit` and `cursor` (the previous page's `next_cursor`) (admin, staff)."""
        after = cursors.decode(cursor, DeliveryKey)
        found = await hooks.deliveries_of(
            _deps(request, services),
            str(principal.tenant_id),
            endpoint_id,
            hooks.DeliveryPage(status, limit + 1, after),
        )
        page = found[:limit]
        more = len(found) > limit
        return DeliveryList(
            items=[DeliveryOut.of(d) for d in page],
            next_cursor=cursors.encode(DeliveryKey.of(page[-1])) if more else None,
        )


class WebhookDeliveriesController(Controller):
    path = "/webhook-deliveries"
    tags = ["webhooks"]

    @post(
        "/{delivery_id:uuid}/retry",
        status_code=202,
        summary="Retry a webhook delivery",
        responses=command_problems("forbidden", "not-found"),
    )
    async def retry(
        self,
        delivery_id: FromPath[UUID],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> DeliveryOut:
        """Sends the delivery again as soon as the worker can (admin): a new attempt of
        the same event (same event id, so receivers can tell a repeat)."""
        delivery = await hooks.retry_delivery(
            _deps(request, services), str(principal.tenant_id), delivery_id
        )
        return DeliveryOut.of(delivery)
