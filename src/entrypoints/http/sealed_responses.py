"""Responses kept for an Idempotency-Key, sealed when they hold a customer's personal data.

A handler whose response holds a customer's personal data says so
(``names_customer``); the idempotency middleware then keeps the body sealed under
that customer's data key, bound to the tenant and the key, instead of in plain
text. Erasing the customer forgets the key, so a replay can no longer open it:
it answers 410 ``idempotent-response-erased`` (the request was done once and is
not done again). See docs/adr/0021-erasure-is-complete.md.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Request
from litestar.types import Scope, Send

from commerce_core.shared.ports.idempotency import StoredResponse
from commerce_core.shared.ports.keyring import ERASED, Keyring, MissingKeyError
from entrypoints.http.problems import send_problem

STATE_KEY = "response_names_customer"
ERASED_SLUG = "idempotent-response-erased"


def names_customer(request: Request[Any, Any, Any], customer_id: UUID) -> None:
    """Marks the response to ``request`` as holding ``customer_id``'s personal data."""
    request.scope.setdefault("state", {})[STATE_KEY] = customer_id


def _bound_to(tenant_id: UUID, key: str) -> bytes:
    # a sealed body copied to another tenant's or another key's record fails to open
    return f"idempotency\x00{tenant_id}\x00{key}".encode()


async def seal_response(
    keyring: Keyring, scope: Scope, tenant_id: UUID, key: str, response: StoredResponse
) -> StoredResponse:
    """``response`` as it may be stored: sealed if its handler named a customer."""
    customer_id = scope.get("state", {}).get(STATE_KEY)
    if not isinstance(customer_id, UUID):
        return response
    try:
        body = await keyring.encrypt(customer_id, response.body, _bound_to(tenant_id, key))
    except MissingKeyError:
        # erased while this request ran: keep nothing, a replay answers as after erasure
        body = b""
    return msgspec.structs.replace(response, body=body, sealed_for=customer_id)


async def open_response(
    keyring: Keyring, tenant_id: UUID, key: str, response: StoredResponse
) -> StoredResponse | None:
    """The response to replay, opened; None when its customer was erased since."""
    if response.sealed_for is None:
        return response
    if not response.body:
        return None
    body = await keyring.decrypt(response.sealed_for, response.body, _bound_to(tenant_id, key))
    if body is ERASED:
        return None
    return msgspec.structs.replace(response, body=body, sealed_for=None)


async def send_erased(scope: Scope, send: Send, replayed_header: str) -> None:
    detail = (
        "this request was done once; its response held personal data of a customer who was"
        " erased since, so it can no longer be replayed"
    )
    await send_problem(scope, send, 410, ERASED_SLUG, detail, {replayed_header: "true"})
