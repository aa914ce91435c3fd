"""A vendor on a real local HTTP server: every request is checked against the vendor's
spec, every JSON answer too, and a ``World`` (the vendor's state) decides the answers.

``violations`` lists what the spec refused: a fixture fails the test if it is not empty.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from tests.integration.carriers.openapi import Spec


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int
    body: Any = None
    raw: bytes | None = None  # sent as is (a label file, a malformed body)
    content_type: str = "application/json"
    checked: bool = True  # False: not an operation of the spec (a download link)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Retry-After


class World(Protocol):
    spec: Spec

    def answer(self, received: Received) -> Answer: ...


@dataclass
class Server:
    world: World
    url: str = ""
    received: list[Received] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


@contextmanager
def serve(world: World) -> Iterator[Server]:
    server = Server(world)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            received = Received(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            server.received.append(received)
            try:
                self._answer(received)
            except Exception as error:  # a broken test world must fail the test, not hang it
                server.violations.append(f"{received.method} {received.path}: {error!r}")
                self.send_response(599)
                self.send_header("content-length", "0")
                self.end_headers()

        def _answer(self, received: Received) -> None:
            answer = world.answer(received)
            if answer.checked:
                server.violations += [
                    f"{received.method} {received.path}: {problem}"
                    for problem in world.spec.check_request(
                        received.method,
                        received.path,
                        received.query,
                        received.headers,
                        received.body,
                    )
                ]
            if answer.checked and answer.raw is None:
                server.violations += [
                    f"answer to {received.method} {received.path}: {problem}"
                    for problem in world.spec.check_response(
                        received.method, received.path, answer.status, answer.body
                    )
                ]
            payload = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("content-type", answer.content_type)
            self.send_header("content-length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _handle  # noqa: N815 (http.server names)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
