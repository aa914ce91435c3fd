"""What a request that no route takes is told: the path, the parameter that is not
what its route expects, or the methods the path allows.

Litestar answers these before any handler runs, with bare "Not Found" and "Method Not
Allowed"; a client learns more from which part of its request was wrong.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from litestar.routes import HTTPRoute

_EXPECTED = {
    uuid.UUID: "a UUID like 3fa85f64-5717-4562-b3fc-2c963f66afa6",
    datetime.date: "a date like 2026-01-31",
    datetime.datetime: "a date and time like 2026-01-31T12:00:00Z",
    int: "an integer",
    float: "a number",
}
_SCHEMA = "/schema/openapi.json"
_LITESTAR_DEFAULTS = frozenset({"Not Found", "Method Not Allowed"})


def _template_regex(path_format: str) -> re.Pattern[str]:
    parts = re.split(r"\{([^}]+)\}", path_format)
    pattern = "".join(
        re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
    )
    return re.compile(pattern + "/?")


def _malformed_parameter(request: Request[Any, Any, Any]) -> str | None:
    """``'abc' is not a valid order_id: …`` for the first route whose shape the path
    has but whose parameter does not parse."""
    path = request.url.path
    for route in request.app.routes:
        if not isinstance(route, HTTPRoute) or not route.path_parameters:
            continue
        match = _template_regex(route.path_format).fullmatch(path)
        if match is None:
            continue
        for name, definition in route.path_parameters.items():
            value = match.group(name)
            try:
                if definition.parser is not None:
                    definition.parser(value)
            except (ValueError, TypeError):
                expected = _EXPECTED.get(definition.type, f"a {definition.type.__name__}")
                return f"{value!r} is not a valid {name} in {route.path_format}: use {expected}"
    return None


def routing_detail(request: Request[Any, Any, Any], exc: HTTPException) -> str:
    """The detail of a 404 or 405 Litestar raised while routing, else the exception's."""
    if exc.detail not in _LITESTAR_DEFAULTS:
        return exc.detail
    method, path = request.method, request.url.path
    if isinstance(exc, MethodNotAllowedException):
        allow = (exc.headers or {}).get("allow", "")
        allowed = ", ".join(sorted(m.strip() for m in allow.split(",") if m.strip()))
        return f"{method} is not allowed on {path}; it allows {allowed or 'no method'}"
    if isinstance(exc, NotFoundException):
        if isinstance(exc.__cause__, ValueError):
            malformed = _malformed_parameter(request)
            if malformed is not None:
                return malformed
        return f"no route matches {method} {path}; the routes are listed in {_SCHEMA}"
    return exc.detail
