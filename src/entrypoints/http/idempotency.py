"""``Idempotency-Key`` on changing requests under ``/api/v1``: act once, replay after.

For an authenticated POST/PUT/PATCH/DELETE carrying the header, the key is claimed
per tenant together with a SHA-256 of method, path, query and body:

- a free key: the handler runs; a 2xx-4xx response is stored for 24 hours, a 5xx
  (or a problem that invites a retry, such as ``concurrency-conflict``) releases
  the key so that a retry can act;
- the same request again: the stored response is replayed (same status and body,
  plus ``Idempotent-Replayed: true``) and the handler does not run;
- another request with the same key: 422 ``idempotency-key-reused``;
- while the first is still running: wait for it (up to ``wait`` seconds) and
  replay, else 409 ``idempotency-key-in-progress``.

A response holding a customer's personal data is stored sealed under that
customer's data key (``sealed_responses``); after the customer's erasure its
replay answers 410 ``idempotent-response-erased``.

Handlers read the key as ``request.state.idempotency_key`` or through the
``idempotency_key`` dependency, e.g. to derive deterministic event ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.ports.idempotency import (
    IdempotencyRecord,
    IdempotencyStore,
    StoredResponse,
)
from commerce_core.shared.ports.keyring import Keyring
from entrypoints.http.auth import Principal, needs_auth
from entrypoints.http.problems import RETRYABLE_FLAG, send_problem
from entrypoints.http.sealed_responses import open_response, seal_response, send_erased

METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
STATE_KEY = "idempotency_key"
MAX_KEY_LENGTH = 255
TTL = timedelta(hours=24)
# a claim still in progress after this long is taken to be abandoned (its process died)
LEASE = timedelta(seconds=60)
POLL_INTERVAL = 0.05


def request_fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no ambiguous joins
        digest.update(part)
    return digest.hexdigest()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class _BodyTooLargeError(Exception):
    pass


class _ClientGoneError(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _ClientGoneError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the already-read body to the app, then defers to the client."""
    sent = False

    async def replay() -> ReceiveMessage:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _replay(send: Send, response: StoredResponse) -> None:
    headers = [
        (b"content-length", str(len(response.body)).encode()),
        (REPLAYED_HEADER.lower().encode(), b"true"),
    ]
    if response.content_type:
        headers.append((b"content-type", response.content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body, "more_body": False})


class IdempotencyMiddleware:
    """Must run after ``ApiKeyAuthMiddleware``: keys are kept per tenant."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: Callable[[], IdempotencyStore],
        clock: Callable[[], Clock],
        keyring: Callable[[], Keyring],
        max_body_size: int,
        wait: float = 5.0,
    ) -> None:
        self.app = app
        self.store = store
        self.clock = clock
        self.keyring = keyring
        self.max_body_size = max_body_size
        self.wait = wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        key = _header(scope, HEADER)
        principal = scope.get("auth")
        if (
            key is None
            or scope["method"] not in METHODS
            or not needs_auth(scope["path"])
            or not isinstance(principal, Principal)
        ):
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            detail = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters"
            await send_problem(scope, send, 422, "validation-error", detail)
            return
        try:
            body = await _read_body(receive, self.max_body_size)
        except _BodyTooLargeError:
            detail = f"the request body exceeds {self.max_body_size} bytes"
            await send_problem(scope, send, 413, "payload-too-large", detail)
            return
        except _ClientGoneError:
            return  # nobody to answer, nothing done
        scope.setdefault("state", {})[STATE_KEY] = key
        fingerprint = request_fingerprint(
            scope["method"], scope["path"], scope.get("query_string", b""), body
        )
        tenant_id = principal.tenant_id
        await self._once(scope, _replaying(body, receive), send, tenant_id, key, fingerprint)

    async def _claim(
        self, tenant_id: uuid.UUID, key: str, fingerprint: str, token: uuid.UUID
    ) -> IdempotencyRecord | None:
        return await self.store().claim(
            tenant_id, key, fingerprint, token=token, at=self.clock().now(), ttl=TTL, lease=LEASE
        )

    async def _once(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        tenant_id: uuid.UUID,
        key: str,
        fingerprint: str,
    ) -> None:
        token = uuid.uuid4()
        deadline = time.monotonic() + self.wait
        record = await self._claim(tenant_id, key, fingerprint, token)
        while record is not None:
            if record.request_hash != fingerprint:
                detail = "this Idempotency-Key was used with a different request"
                await send_problem(scope, send, 422, "idempotency-key-reused", detail)
                return
            if record.response is not None:
                opened = await open_response(self.keyring(), tenant_id, key, record.response)
                if opened is None:
                    await send_erased(scope, send, REPLAYED_HEADER)
                else:
                    await _replay(send, opened)
                return
            if time.monotonic() >= deadline:
                detail = "a request with this Idempotency-Key is still in progress; retry later"
                await send_problem(scope, send, 409, "idempotency-key-in-progress", detail)
                return
            await asyncio.sleep(POLL_INTERVAL)
            record = await self.store().get(tenant_id, key, at=self.clock().now())
            if record is None:  # released by a failed first attempt: try to act ourselves
                record = await self._claim(tenant_id, key, fingerprint, token)
        await self._act(scope, receive, send, tenant_id, key, token)

    async def _act(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        tenant_id: uuid.UUID,
        key: str,
        token: uuid.UUID,
    ) -> None:
        status = 500
        content_type: str | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        stored = False
        try:
            await self.app(scope, receive, capture)
            if status < 500 and not scope.get("state", {}).get(RETRYABLE_FLAG):
                response = await seal_response(
                    self.keyring(),
                    scope,
                    tenant_id,
                    key,
                    StoredResponse(status, b"".join(chunks), content_type),
                )
                stored = await self.store().complete(tenant_id, key, token=token, response=response)
        finally:
            if not stored:
                # shielded: a cancelled request must still free its key
                await asyncio.shield(self.store().release(tenant_id, key, token=token))


def idempotency_key(request: Request[Any, Any, Any]) -> str | None:
    """The request's Idempotency-Key (None without one); the ``idempotency_key`` dependency."""
    key = request.scope.get("state", {}).get(STATE_KEY)
    return key if isinstance(key, str) else None


_DERIVED_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "https://commerce-core.dev/idempotency")


def derived_id(tenant_id: uuid.UUID, key: str, purpose: str) -> uuid.UUID:
    """A deterministic id for something a keyed request creates (same key, same id)."""
    return uuid.uuid5(_DERIVED_IDS, f"{tenant_id}:{key}:{purpose}")
