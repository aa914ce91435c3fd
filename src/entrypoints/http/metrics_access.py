"""Who reads the metrics: ``GET /metrics`` with an operator key, or a separate address.

The metrics name routes, tenants' traffic and the platform's load, so the public
address answers them only to an ``operator`` key (401 without a valid key, 403 for
another role). A scraper that cannot send a key gets its own listener instead:
``METRICS_ADDRESS=host:port`` (for a private interface) serves ``GET /metrics`` with
no key, from the same registry (ADR 0019).
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, get

from commerce_core.tenancy.ports.tenants import API_KEY_PREFIX, Role
from entrypoints.http.auth import KeyResolver, bearer_token
from entrypoints.http.metrics import CONTENT_TYPE, MetricsRegistry
from entrypoints.http.problems import problem

_MAX_REQUEST_HEAD = 8192


async def _require_operator(request: Request[Any, Any, Any]) -> None:
    resolver: KeyResolver = request.app.state.key_resolver
    token = bearer_token(request.scope)
    principal = None
    if token and token.startswith(API_KEY_PREFIX):
        principal = await resolver.resolve(token)
    if principal is None:
        raise problem(
            401,
            "unauthorized",
            "the metrics need an operator's API key: use Authorization: Bearer <api key>",
        )
    if principal.role is not Role.OPERATOR:
        raise problem(403, "forbidden", "the metrics need an operator's API key, not a tenant's")


@get("/metrics", media_type=CONTENT_TYPE, include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, Any]) -> str:
    """The process's metrics in Prometheus text format (operator keys)."""
    await _require_operator(request)
    registry: MetricsRegistry = request.app.state.container.metrics()
    return await registry.render()


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9100`` for IPv6); ``ValueError`` otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"METRICS_ADDRESS must be host:port, not {address!r}")
    return host.strip("[]"), int(port)


async def serve_metrics(registry: MetricsRegistry, address: str) -> asyncio.Server:
    """A minimal HTTP/1.0 listener answering ``GET /metrics`` (and 404 to the rest).

    Several worker processes may each start one on the same address (``reuse_port``);
    each answers with its own process's metrics, as ``/metrics`` does.
    """
    host, port = parse_address(address)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
            request_line = head[:_MAX_REQUEST_HEAD].split(b"\r\n", 1)[0].split(b" ")
            if request_line[:2] == [b"GET", b"/metrics"]:
                status, body = "200 OK", (await registry.render()).encode()
            else:
                status, body = "404 Not Found", b"not found\n"
            writer.write(
                f"HTTP/1.0 {status}\r\nContent-Type: {CONTENT_TYPE}; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(answer, host, port, reuse_port=True, limit=_MAX_REQUEST_HEAD)
