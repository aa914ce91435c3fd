"""The ASGI entry for servers: ``granian --interface asgi --factory entrypoints.http.asgi:app``."""

from __future__ import annotations

from litestar import Litestar

from entrypoints.http.app import create_app


def app() -> Litestar:
    return create_app()
