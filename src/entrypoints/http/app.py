"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dependency_injector import providers
from litestar import Litestar

from entrypoints.container import Container, build_container, open_pool
from entrypoints.http.health import HealthController
from entrypoints.http.request_log import RequestLogMiddleware
from entrypoints.logs import configure_logging
from entrypoints.settings import Settings, get_settings


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    container = container or build_container(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_pool(settings) as pool:
            container.pool.override(providers.Object(pool))
            try:
                yield
            finally:
                container.pool.reset_override()

    app = Litestar(
        route_handlers=[HealthController],
        middleware=[RequestLogMiddleware],
        lifespan=[lifespan],
        state=None,
    )
    app.state.container = container
    return app
