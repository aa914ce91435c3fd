"""A small HTTP/1.1 load generator, for machines without ``wrk``; run as its own process.

    python bench/loadgen.py PLAN.json

PLAN.json: ``{"host", "port", "concurrency", "seconds", "max_requests", "requests":
[raw request text, ...]}``. Each of ``concurrency`` keep-alive connections sends the
raw requests in turn (starting at a different one), one at a time, until ``seconds``
have passed or ``max_requests`` were sent in all. Prints one JSON line: requests,
errors (non-2xx answers and failed connections), seconds, rps, p50_ms, p99_ms,
statuses.

Plain asyncio streams keep the client cheap (the server shares the machine); the
requests are rendered once, so a request costs a write and a parse of the answer.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field

import msgspec


@dataclass
class Tally:
    deadline: float
    budget: int
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: int = 0

    def take(self) -> bool:
        """One more request, while time and budget last."""
        if self.budget <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.budget -= 1
        return True


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    return status


async def _connection(
    host: str, port: int, requests: list[bytes], offset: int, tally: Tally
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    index = offset
    try:
        while tally.take():
            request = requests[index % len(requests)]
            index += 1
            started = time.perf_counter()
            writer.write(request)
            try:
                status = await _read_answer(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                tally.failures += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[status] += 1
    finally:
        writer.close()


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


class Plan(msgspec.Struct):
    host: str
    port: int
    concurrency: int
    seconds: float
    max_requests: int
    requests: list[str]


async def run(plan: Plan) -> dict[str, object]:
    requests = [r.encode("latin-1") for r in plan.requests]
    started = time.perf_counter()
    tally = Tally(deadline=started + plan.seconds, budget=plan.max_requests)
    offsets = [i * len(requests) // plan.concurrency for i in range(plan.concurrency)]
    await asyncio.gather(
        *(_connection(plan.host, plan.port, requests, offset, tally) for offset in offsets)
    )
    seconds = time.perf_counter() - started
    latencies = sorted(tally.latencies)
    ok = sum(n for status, n in tally.statuses.items() if 200 <= status < 300)
    return {
        "requests": len(latencies),
        "errors": len(latencies) - ok + tally.failures,
        "seconds": seconds,
        "rps": len(latencies) / seconds,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
    }


def main() -> None:
    with open(sys.argv[1], "rb") as plan_file:
        plan = msgspec.json.decode(plan_file.read(), type=Plan)
    print(json.dumps(asyncio.run(run(plan))))


if __name__ == "__main__":
    main()
