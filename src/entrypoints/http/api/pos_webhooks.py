"""Square's webhooks: ``POST /webhooks/square`` (ADR 0037); Clover's: ``POST
/webhooks/clover`` (ADR 0042, at the end).

No API key: Square signs each delivery (``x-square-hmacsha256-signature``, HMAC-SHA256 of
the notification URL and the raw body, base64) with the signature key of the tenant's
connection. The delivery's ``merchant_id`` names the connection (its ``merchant_id``,
``PUT /admin/channels/square``); it is read only to choose the key, and nothing in the
delivery is acted on before the signature holds. A verified event is stored once per
event id in the webhook inbox (again: 200, ``duplicate: true``) and processed by its
worker: a pull of that connection, which applies the order the event names.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency, Provide

from commerce_core.channels.connections import PosConnection, PosName
from commerce_core.channels.ports import InvalidSignatureError, PosEvent, PosRefusedError
from commerce_core.payments.ports.webhooks import ReceivedWebhook
from commerce_core.processes.pos_sync import POS_WEBHOOK_PREFIX
from entrypoints.http.api.webhooks import WebhookReceived, provide_webhooks
from entrypoints.http.json_body import MAX_DEPTH, nesting_depth
from entrypoints.http.openapi import problem_responses
from entrypoints.http.problems import problem
from entrypoints.http.text_guard import contains_nul
from entrypoints.webhooks import Webhooks

_UNSIGNED = "the webhook signature does not match a connected Square account"


class _Merchant(msgspec.Struct):
    merchant_id: str = ""


class PosWebhooksController(Controller):
    """The route Square calls; ``/api/v1/webhooks/*`` needs no API key."""

    path = "/webhooks/square"
    tags = ["webhooks"]
    dependencies = {"webhooks": Provide(provide_webhooks, sync_to_thread=False)}

    @post(
        "/",
        summary="Receive a Square webhook",
        status_code=200,
        responses=problem_responses(["invalid-signature", "bad-request", "service-unavailable"]),
    )
    async def receive(
        self, request: Request[Any, Any, Any], webhooks: NamedDependency[Webhooks]
    ) -> WebhookReceived:
        """A Square notification (orders created or updated) for a tenant's connection,
        verified with that connection's signature key over the notification URL
        (`SQUARE_WEBHOOK_URL`, else this request's URL) and the raw body. Stored once per
        `event_id` and processed in the background: the connection's orders are pulled.
        400 `invalid-signature` for a missing or wrong signature or an unknown merchant."""
        body = await request.body()
        if nesting_depth(body) > MAX_DEPTH:
            raise problem(400, "bad-request", f"the body nests deeper than {MAX_DEPTH} levels")
        if contains_nul(body):
            raise problem(400, "bad-request", "the event holds a NUL character")
        try:
            merchant = msgspec.json.decode(body, type=_Merchant).merchant_id
        except msgspec.DecodeError:
            raise problem(400, "bad-request", "the body is not a Square event") from None
        container = request.app.state.container
        name = str(PosName.SQUARE)
        gateway = POS_WEBHOOK_PREFIX + name
        url = container.settings().square_webhook_url or str(request.url)
        # Another tenant may name the same merchant: only the connection whose key signed
        # the delivery gets it, so a false claim neither receives nor blocks anything.
        for connection in await container.pos_connections().with_merchant(name, merchant):
            pos = await container.pos_resolver().pos_for(connection)
            try:
                events = pos.verify_webhook(body, dict(request.headers), url)
            except InvalidSignatureError:
                continue
            break
        else:
            webhooks.count_delivery(gateway, "invalid_signature")
            raise problem(400, "invalid-signature", _UNSIGNED)
        added = False
        for event in events:
            received = ReceivedWebhook(
                gateway=gateway,
                event_id=event.event_id,
                type=event.vendor_type,
                payload=body,
                tenant_id=str(connection.tenant_id),
            )
            at = webhooks.clock.now()
            added = await webhooks.inbox.add(received, id=webhooks.ids.new_id(), at=at) or added
        webhooks.count_delivery(gateway, "stored" if added else "duplicate")
        return WebhookReceived(received=True, duplicate=not added)


_NO_CLOVER = "the X-Clover-Auth code does not match a connected Clover merchant"
_CODE = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class _CloverDelivery(msgspec.Struct):
    merchants: dict[str, Any]


class _Verification(msgspec.Struct, forbid_unknown_fields=True):
    verificationCode: str  # noqa: N815 (Clover's name)


def verification_code(body: bytes) -> str | None:
    """The code of Clover's webhook verification request (a body of that one field), or
    None for any other body."""
    try:
        return msgspec.json.decode(body, type=_Verification).verificationCode
    except msgspec.DecodeError:
        return None


class CloverWebhooksController(Controller):
    """The route Clover calls (ADR 0042); ``/api/v1/webhooks/*`` needs no API key."""

    path = "/webhooks/clover"
    tags = ["webhooks"]
    dependencies = {"webhooks": Provide(provide_webhooks, sync_to_thread=False)}

    @post(
        "/",
        summary="Receive a Clover webhook",
        status_code=200,
        responses=problem_responses(["invalid-signature", "bad-request", "service-unavailable"]),
    )
    async def receive(
        self, request: Request[Any, Any, Any], webhooks: NamedDependency[Webhooks]
    ) -> WebhookReceived:
        """Clover's first call to a new webhook URL, `{"verificationCode": ...}`, is kept on
        every Clover connection still awaiting its auth code and shown at `GET
        /admin/channels` (paste it into Clover's dashboard, then store the Clover Auth Code
        it shows as the connection's `signature_key`). Every later delivery must carry that
        code in `X-Clover-Auth` (compared in constant time); each merchant's updates go to
        the connections naming that merchant whose code matches, stored once per update and
        processed in the background by pulling the connection's orders. 400
        `invalid-signature` for a missing or wrong code or an unknown merchant."""
        body = await request.body()
        if nesting_depth(body) > MAX_DEPTH:
            raise problem(400, "bad-request", f"the body nests deeper than {MAX_DEPTH} levels")
        if contains_nul(body):
            raise problem(400, "bad-request", "the event holds a NUL character")
        container = request.app.state.container
        name = str(PosName.CLOVER)
        gateway = POS_WEBHOOK_PREFIX + name
        code = verification_code(body)
        if code is not None:
            if not _CODE.fullmatch(code):
                raise problem(400, "bad-request", "the verification code is not one Clover sends")
            await container.pos_connections().verification_requested(name, code)
            webhooks.count_delivery(gateway, "verification")
            return WebhookReceived(received=True, duplicate=False)
        try:
            merchants = msgspec.json.decode(body, type=_CloverDelivery).merchants
        except msgspec.DecodeError:
            raise problem(400, "bad-request", "the body is not a Clover delivery") from None
        verified: list[tuple[PosConnection, list[PosEvent]]] = []
        for merchant in list(merchants)[:10]:
            for connection in await container.pos_connections().with_merchant(name, merchant):
                pos = await container.pos_resolver().pos_for(connection)
                try:
                    verified.append((connection, pos.verify_webhook(body, request.headers, "")))
                except InvalidSignatureError:
                    continue
                except PosRefusedError:
                    raise problem(400, "bad-request", "a Clover delivery we cannot read") from None
        if not verified:
            webhooks.count_delivery(gateway, "invalid_signature")
            raise problem(400, "invalid-signature", _NO_CLOVER)
        added = False
        for connection, events in verified:
            for event in events:
                # Clover names no event: the id is made of the update; each tenant's copy is
                # its own, so one tenant's claim on a merchant never swallows another's.
                received = ReceivedWebhook(
                    gateway=gateway,
                    event_id=f"{connection.tenant_id}:{event.event_id}",
                    type=event.vendor_type,
                    payload=body,
                    tenant_id=str(connection.tenant_id),
                )
                at = webhooks.clock.now()
                added = await webhooks.inbox.add(received, id=webhooks.ids.new_id(), at=at) or added
        webhooks.count_delivery(gateway, "stored" if added else "duplicate")
        return WebhookReceived(received=True, duplicate=not added)
