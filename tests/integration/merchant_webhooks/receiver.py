"""A real HTTP receiver in the test process (asyncio streams on a free port) that checks
each delivery's signature with the documented snippet and answers as scripted."""

from __future__ import annotations

import asyncio
import runpy
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SNIPPET = Path(__file__).resolve().parents[3] / "docs" / "examples" / "verify_commerce_signature.py"
verify: Callable[..., bool] = runpy.run_path(str(SNIPPET))["verify_commerce_signature"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    """Any of these may verify a delivery (a receiver mid-rotation knows both)."""
    answers: list[int] = field(default_factory=list)
    """Statuses to answer, in turn; 200 once they run out."""
    fail_each: int = 0
    """Answers 500 to the first ``fail_each`` attempts of every event (by its
    ``Commerce-Event-Id``) before ``answers`` are used."""
    now: Callable[[], float] | None = None
    received: list[Received] = field(default_factory=list)
    redirect_to: str | None = None
    """Answers every verified delivery with a 307 to this URL instead."""
    port: int = 0
    _tries: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:] if line)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        signature = headers.get("commerce-signature", "")
        now = None if self.now is None else self.now()
        verified = any(verify(s, signature, body, now=now) for s in self.secrets)
        self.received.append(Received(path, headers, body, verified))
        event_id = headers.get("commerce-event-id", "")
        tries = self._tries[event_id] = self._tries.get(event_id, 0) + 1
        status = 500 if tries <= self.fail_each else self.answers.pop(0) if self.answers else 200
        status = status if verified else 400
        reply = b"ok" if status == 200 else b"x" * 5000  # a long answer is cut short
        status_line = f"HTTP/1.1 {status} X\r\nContent-Length: {len(reply)}\r\nConnection: close"
        if verified and self.redirect_to is not None:
            reply = b""
            status_line = (
                f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {self.redirect_to}\r\n"
                "Content-Length: 0\r\nConnection: close"
            )
        writer.write(status_line.encode() + b"\r\n\r\n" + reply)
        await writer.drain()
        writer.close()


@asynccontextmanager
async def receiving(**options: Any) -> AsyncIterator[Receiver]:
    receiver = Receiver(**options)
    server = await asyncio.start_server(receiver._handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    async with server:
        yield receiver
