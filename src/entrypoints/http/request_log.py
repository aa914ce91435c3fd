"""One JSON log line per request, with a request id that is also returned to the client.

The line names the route by its template (``/api/v1/orders/{order_id}``), so lines
of one route group together and carry no ids from the path; and the tenant of the key,
as the auth middleware found it (no lookup of its own: this runs on every request).
"""

from __future__ import annotations

import time
import uuid

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("http")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        # printable ASCII only: the id is logged and stored as the events' correlation id,
        # where a NUL would fail PostgreSQL's insert
        if name == b"x-request-id" and 0 < len(value) <= 128 and value.isascii():
            text = value.decode("ascii")
            if text.isprintable():
                return text
    return uuid.uuid4().hex


class RequestLogMiddleware:
    """Binds ``request_id`` for every log line of the request and logs its outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            principal = scope.get("auth")
            tenant_id = getattr(principal, "tenant_id", None)
            log.info(
                "request",
                method=scope.get("method"),
                route=scope.get("path_template") or scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                tenant_id=None if tenant_id is None else str(tenant_id),
            )
            structlog.contextvars.unbind_contextvars("request_id")
