"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from dependency_injector import providers
from litestar import Litestar
from litestar.di import Provide
from litestar.middleware import DefineMiddleware

from commerce_core.tenancy.rate_limits import RouteLimit
from entrypoints.background import start_background_work
from entrypoints.container import Container, build_container, open_pool
from entrypoints.http.api.admin import close_projection_ops, projection_ops
from entrypoints.http.api.router import api_router
from entrypoints.http.auth import ApiKeyAuthMiddleware, KeyResolver, provide_principal
from entrypoints.http.bench import bench_hello
from entrypoints.http.health import HealthController
from entrypoints.http.idempotency import IdempotencyMiddleware, idempotency_key
from entrypoints.http.input_guard import guard_input
from entrypoints.http.limits.checkout import provide_limits
from entrypoints.http.limits.edge import EdgeLimits
from entrypoints.http.limits.middleware import KeyRateLimitMiddleware
from entrypoints.http.metrics import MetricsMiddleware
from entrypoints.http.metrics_access import metrics_endpoint, serve_metrics
from entrypoints.http.openapi import docs_assets, openapi_config
from entrypoints.http.operation_docs import DocumentOperations
from entrypoints.http.problems import exception_handlers
from entrypoints.http.projection_health import export_projection_metrics
from entrypoints.http.request_log import RequestLogMiddleware
from entrypoints.http.services import Services, provide_ctx, provide_services
from entrypoints.logs import configure_logging, log_started
from entrypoints.relay import export_relay_metrics
from entrypoints.settings import Settings, get_settings
from entrypoints.webhooks import build_webhooks


async def cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    container = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        log_started("http")
        async with open_pool(settings) as pool:
            container.pool.override(providers.Object(pool))
            app.state.services = Services.from_container(container)
            try:
                async with AsyncExitStack() as stack:
                    resolver = container.gateway_resolver()
                    stack.push_async_callback(resolver.close)
                    stack.push_async_callback(container.carriers().close)
                    stack.push_async_callback(container.pos_resolver().close)
                    stack.push_async_callback(container.rate_limiter().close)
                    app.state.webhooks = build_webhooks(
                        container, tenant_secret=resolver.webhook_secret
                    )
                    export_projection_metrics(container.metrics(), lambda: projection_ops(app))
                    export_relay_metrics(container.metrics(), container)
                    listener = container.tenancy_listener()
                    if listener is not None:
                        stack.push_async_callback(cancelled, asyncio.create_task(listener.run()))
                    if settings.run_projections:
                        await start_background_work(stack, app.state, settings, container, pool)
                    if settings.metrics_address:
                        server = await serve_metrics(container.metrics(), settings.metrics_address)
                        app.state.metrics_server = server
                        stack.push_async_callback(server.wait_closed)
                        stack.callback(server.close)
                    # what lives now (modules, the app, the container) lives on: kept out
                    # of the cyclic collector's full passes, which rescan it all every few
                    # hundred requests. The projection runner did this for the workers with
                    # background work (ADR 0048); those without it placed a sixth fewer
                    # orders a second (bench/README.md, the sixth pass)
                    gc.freeze()
                    yield
                    await close_projection_ops(app.state)
            finally:
                container.pool.reset_override()

    resolver = KeyResolver(container.cached_tenants)
    limits = EdgeLimits(
        container.rate_limiter,
        container.cached_tenants,
        default=RouteLimit(
            per_second=settings.rate_limit_per_second, burst=settings.rate_limit_burst
        ),
        auth_failures_per_minute=settings.auth_failures_per_minute,
        settings_ttl=0,  # the cached tenants are (ADR 0050)
    )
    bench_routes = [bench_hello] if settings.bench_routes else []
    app = Litestar(
        route_handlers=[
            HealthController,
            metrics_endpoint,
            api_router(),
            docs_assets(),
            *bench_routes,
        ],
        # outermost first: limits and idempotency need the key
        middleware=[
            DefineMiddleware(MetricsMiddleware, registry=container.metrics()),
            DefineMiddleware(ApiKeyAuthMiddleware, resolver=resolver, limits=limits),
            DefineMiddleware(KeyRateLimitMiddleware, limits=limits),
            DefineMiddleware(
                IdempotencyMiddleware,
                store=container.idempotency,
                clock=container.clock,
                keyring=container.keyring,
                max_body_size=settings.request_max_body_size,
                wait=settings.idempotency_wait,
            ),
        ],
        dependencies={
            "principal": Provide(provide_principal, sync_to_thread=False),
            "idempotency_key": Provide(idempotency_key, sync_to_thread=False),
            "services": Provide(provide_services, sync_to_thread=False),
            "ctx": Provide(provide_ctx, sync_to_thread=False),
            "limits": Provide(provide_limits, sync_to_thread=False),
        },
        exception_handlers=exception_handlers(),
        before_request=guard_input,
        request_max_body_size=settings.request_max_body_size,
        openapi_config=openapi_config(),
        # its default set-up replaces the root logger's handler with "INFO - ..." lines
        logging_config=None,
        plugins=[DocumentOperations()],
        lifespan=[lifespan],
        state=None,
    )
    # around the router, not inside it: a request no route takes (unknown path, wrong
    # method, malformed path parameter) gets a request id and a log line too
    app.asgi_handler = RequestLogMiddleware(app.asgi_handler)
    app.state.container = container
    app.state.limits = limits
    app.state.key_resolver = resolver
    return app
