"""The service with its webhook routes and worker, served for real on a port (granian, in a
subprocess), for the localstripe end-to-end test and ``bench/webhooks.py``.

``app`` is an ASGI factory: ``granian --interface asgi --factory
tests.integration.webhook_app:app``. It adds the webhook routes and runs the webhook
worker unless the app does both already (once ``create_app`` wires them, it adds
nothing). Configuration comes from the environment, as for ``commerce serve``;
``WEBHOOK_WORKER=0`` serves without a worker (to measure receiving alone).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from litestar import Litestar, Router

from entrypoints.http.api.webhooks import WebhooksAdminController, WebhooksController
from entrypoints.http.app import create_app
from entrypoints.webhook_worker import running_webhook_worker
from entrypoints.webhooks import build_webhooks

WEBHOOK_ROUTE = "/api/v1/webhooks/{gateway:str}"
START_TIMEOUT = 30.0


def app() -> Litestar:
    service = with_webhook_routes(create_app())
    # after create_app's own lifespan (which opens the pool), before it closes it
    service._lifespan_managers.append(_webhook_worker)
    return service


def with_webhook_routes(service: Litestar) -> Litestar:
    """Adds the webhook controllers unless the app has them already."""
    if WEBHOOK_ROUTE not in {route.path for route in service.routes}:
        service.register(
            Router("/api/v1", route_handlers=[WebhooksController, WebhooksAdminController])
        )
    return service


@asynccontextmanager
async def _webhook_worker(service: Litestar) -> AsyncIterator[None]:
    if service.state.get("webhooks") is not None:  # the app runs its own
        yield
        return
    webhooks = build_webhooks(service.state.container)
    service.state.webhooks = webhooks
    if os.environ.get("WEBHOOK_WORKER", "1") in ("0", "false", "no"):
        yield
        return
    async with running_webhook_worker(webhooks):
        yield


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """The app in a granian subprocess on a free port, with ``env`` added to ours."""

    def __init__(self, env: Mapping[str, str], log: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        root = Path(__file__).resolve().parents[2]
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "granian",
                "--interface",
                "asgi",
                "--factory",
                "--no-ws",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "tests.integration.webhook_app:app",
            ],
            cwd=root,
            env={**os.environ, "PYTHONPATH": f"{root}:{root / 'src'}", **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_ready(log)

    def _wait_until_ready(self, log: Path) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not answer within {START_TIMEOUT} s")

    def stop(self) -> None:
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._log.close()
