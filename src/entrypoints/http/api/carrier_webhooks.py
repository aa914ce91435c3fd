"""Carriers' tracking webhooks: ``POST /webhooks/carriers/{carrier}`` (the platform's
carrier accounts) and ``POST /webhooks/carriers/{carrier}/{tenant_id}`` (a tenant's own).

No API key: the carrier's shared secret instead (ADR 0032), where the carrier documents
it: ShipEngine's in the ``secret`` query parameter of the URL registered with it, UPS
Track Alert's in the ``credential`` header. The platform's secrets come from
configuration (``SHIPENGINE_WEBHOOK_SECRET``, ``UPS_WEBHOOK_CREDENTIAL``), a tenant's
from its carrier connection's ``webhook_secret``. A verified event is stored once per
event id (again: 200, ``duplicate: true``, no effect) and processed by the webhook
inbox's worker, as gateways' events are. A tenant's URL can only move that tenant's
shipments.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from commerce_core.fulfilment.tracking import TrackingWebhookError
from commerce_core.payments.ports.webhooks import InvalidSignatureError
from entrypoints.http.api.webhooks import WebhookReceived, provide_webhooks
from entrypoints.http.json_body import MAX_DEPTH, nesting_depth
from entrypoints.http.openapi import problem_responses
from entrypoints.http.problems import problem
from entrypoints.http.text_guard import contains_nul
from entrypoints.webhooks import CarrierTracking, Webhooks

_PROBLEMS = ["invalid-signature", "bad-request", "not-found", "validation-error"]


class CarrierWebhooksController(Controller):
    """Routes the carriers call; ``/api/v1/webhooks/carriers/*`` needs no API key."""

    path = "/webhooks/carriers"
    tags = ["shipments"]
    dependencies = {"webhooks": Provide(provide_webhooks, sync_to_thread=False)}

    @post(
        "/{carrier:str}",
        summary="Receive a carrier's tracking event",
        status_code=200,
        responses=problem_responses([*_PROBLEMS, "service-unavailable"]),
    )
    async def receive(
        self,
        carrier: FromPath[str],
        request: Request[Any, Any, Any],
        webhooks: NamedDependency[Webhooks],
    ) -> WebhookReceived:
        """A tracking event of the platform's account at the carrier (``shipengine``:
        the URL's ``secret``; ``ups``: the Track Alert ``credential`` header). Stored
        once per event and processed in the background: the scans move the shipment whose
        label carries the tracking number, and its order. 400 ``invalid-signature`` for a
        missing or wrong secret."""
        return await _receive(webhooks, carrier, request, None)

    @post(
        "/{carrier:str}/{tenant_id:uuid}",
        summary="Receive a tenant's carrier tracking event",
        status_code=200,
        responses=problem_responses([*_PROBLEMS, "service-unavailable"]),
    )
    async def receive_for_tenant(
        self,
        carrier: FromPath[str],
        tenant_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        webhooks: NamedDependency[Webhooks],
    ) -> WebhookReceived:
        """A tracking event of a tenant's own carrier account, authenticated with the
        ``webhook_secret`` of its connection (``PUT /admin/carriers/{carrier}``). It can
        only move that tenant's shipments."""
        return await _receive(webhooks, carrier, request, tenant_id)


async def _receive(
    webhooks: Webhooks, carrier: str, request: Request[Any, Any, Any], tenant_id: UUID | None
) -> WebhookReceived:
    tracking = webhooks.tracking
    hook = None if tracking is None else tracking.by_carrier(carrier)
    if tracking is None or hook is None:
        raise problem(
            404,
            "not-found",
            f"no tracking webhooks for carrier {carrier!r}: use /webhooks/carriers/shipengine"
            " or /webhooks/carriers/ups",
        )
    secrets = await _secrets(tracking, carrier, tenant_id)
    body = await request.body()
    if nesting_depth(body) > MAX_DEPTH:
        raise problem(400, "bad-request", f"the body nests deeper than {MAX_DEPTH} levels")
    if hook.credential_header is not None:
        credential = request.headers.get(hook.credential_header)
    else:
        credential = request.query_params.get(hook.credential_query or "")
    try:
        event = hook.verify(body, credential, secrets)
    except InvalidSignatureError as error:
        webhooks.count_delivery(hook.gateway, "invalid_signature")
        raise problem(400, "invalid-signature", str(error)) from None
    except TrackingWebhookError as error:
        raise problem(422, "validation-error", str(error)) from None
    if contains_nul(body):
        raise problem(400, "bad-request", "the event holds a NUL character")
    if tenant_id is not None:
        event = msgspec.structs.replace(event, tenant_id=str(tenant_id))
    added = await webhooks.inbox.add(event, id=webhooks.ids.new_id(), at=webhooks.clock.now())
    webhooks.count_delivery(hook.gateway, "stored" if added else "duplicate")
    return WebhookReceived(received=True, duplicate=not added)


async def _secrets(tracking: CarrierTracking, carrier: str, tenant_id: UUID | None) -> list[str]:
    """The tenant's connection's secret, or the platform's; none: every request is refused
    as unsigned (a tenant without a secret gets the same answer as a wrong one)."""
    if tenant_id is None:
        secret = tracking.platform_secrets.get(carrier)
    else:
        secret = await tracking.tenant_secret(tenant_id, carrier)
    return [secret] if secret else []
