"""Refuses requests carrying the NUL character, which PostgreSQL cannot store as text.

Without this guard a NUL in a product name or a query parameter reaches the database
and fails there as a 500. Gateways' webhooks are left alone: their raw bodies are
signed, and their own handler refuses a signed one with a NUL (``contains_nul``).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ValidationException

_ESCAPED_NUL = b"\\u0000"
_WEBHOOKS = "/api/v1/webhooks/"


def contains_nul(body: bytes) -> bool:
    """True if the body holds a NUL, raw or escaped in JSON text."""
    return b"\x00" in body or _has_escaped_nul(body)


def _has_escaped_nul(body: bytes) -> bool:
    """True if the JSON text escapes a NUL (``\\u0000`` not itself behind a backslash)."""
    start = body.find(_ESCAPED_NUL)
    while start != -1:
        backslashes = len(body[:start]) - len(body[:start].rstrip(b"\\"))
        if backslashes % 2 == 0:
            return True
        start = body.find(_ESCAPED_NUL, start + 1)
    return False


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: 422 ``validation-error`` for NUL in the query or JSON body."""
    # the scope's path, not ``request.url``: building the URL was a few percent of a request
    path = request.scope.get("root_path", "") + request.scope["path"]
    if path.startswith(_WEBHOOKS):
        return
    if b"%00" in request.scope.get("query_string", b"") or "\x00" in path:
        raise ValidationException("the NUL character is not allowed in a request")
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
        if contains_nul(body):
            raise ValidationException("the NUL character is not allowed in a request")
