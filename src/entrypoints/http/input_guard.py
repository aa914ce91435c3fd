"""The app's ``before_request`` hook: every check of a request's input, in order."""

from __future__ import annotations

from typing import Any

from litestar import Request

from entrypoints.http.json_body import check_json_body
from entrypoints.http.text_guard import refuse_nul


async def guard_input(request: Request[Any, Any, Any]) -> None:
    """NUL characters first (query, path, body), then the JSON body against its type."""
    await refuse_nul(request)
    await check_json_body(request)
