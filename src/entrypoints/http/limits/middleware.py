"""Each API key's requests, per route class: ``RateLimit-*`` on every answer, 429 beyond.

Runs after authentication (it needs the key) and before idempotency, so a refused
request neither runs nor claims its Idempotency-Key.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from commerce_core.shared.ports.rate_limits import Verdict
from entrypoints.http.auth import Principal
from entrypoints.http.limits.edge import EdgeLimits
from entrypoints.http.limits.headers import rate_limit_headers, send_rate_limited


class KeyRateLimitMiddleware:
    def __init__(self, app: ASGIApp, limits: EdgeLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("auth")
        if scope["type"] != ScopeType.HTTP or not isinstance(principal, Principal):
            await self.app(scope, receive, send)
            return
        verdict = await self.limits.hit_key(
            principal.tenant_id, principal.key_id, scope["method"], scope["path"]
        )
        if verdict is None:
            await self.app(scope, receive, send)
        elif not verdict.allowed:
            await send_rate_limited(scope, send, verdict, "too many requests for this API key")
        else:
            await self.app(scope, receive, _with_headers(send, verdict))


def _with_headers(send: Send, verdict: Verdict) -> Send:
    extra = [(k.lower().encode(), v.encode()) for k, v in rate_limit_headers(verdict).items()]

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            present = {name.lower() for name, _ in headers}
            # a handler's own limit (the checkout's) is the one that refused: keep it
            headers.extend(item for item in extra if item[0] not in present)
            message = {**message, "headers": headers}
        await send(message)

    return wrapped
