"""bench/load.py: open loop (flows start on schedule whatever the answers' latency), errors
counted per step by status, and a short real run against the server it starts."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_DATABASE_URL

LOAD_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def load_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_load", LOAD_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


load = load_module()


class FakeApi:
    """Answers every call of the flow as the API would; ``charge_status`` other than 201
    refuses every charge; browses are held back until ``release_at`` of them wait;
    ``lists_time_out`` makes every list of orders time out."""

    def __init__(self, charge_status: int = 201, release_at: int = 1) -> None:
        self.charge_status = charge_status
        self.release_at = release_at
        self.gate = asyncio.Event()
        self.browsing = 0
        self.lists_time_out = False
        self.paths: list[str] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(path)
        if path.startswith("/api/v1/products/"):
            self.browsing += 1
            if self.browsing >= self.release_at:
                self.gate.set()
            await self.gate.wait()
            return httpx.Response(200, json={"sku": path.rsplit("/", 1)[1]})
        if path == "/api/v1/orders" and request.method == "POST":
            return httpx.Response(201, json={"id": "order-1"})
        if path == "/api/v1/payments/charge":
            if self.charge_status != 201:
                problem = {"type": "https://commerce-core.dev/problems/payment-in-progress"}
                return httpx.Response(self.charge_status, json=problem)
            payment = {"id": "p-1", "order_id": "order-1", "status": "captured"}
            return httpx.Response(201, json={**payment, "amount": 1200, "currency": "USD"})
        if path == "/api/v1/orders" and request.method == "GET":
            if self.lists_time_out:
                raise httpx.ReadTimeout("no answer", request=request)
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        return httpx.Response(201, json={})  # shipments, refunds


def mix() -> Any:
    shop = load.Shop(skus=["A", "B", "C"], customer_ids=["c-1"], tenant_id="t-1")
    return load.Mix(shop, webhook_secret=None, refund_every=5)


async def test_flows_start_on_schedule_while_every_answer_is_held_back() -> None:
    api = FakeApi(release_at=10)  # a closed loop would wait forever: one flow at a time
    # 5.2 calls per flow (no webhook step, a refund in 5 flows): 10 flows in 0.5 s
    schedule = load.Schedule(seconds=0.5, rate=104)
    rec = load.Recorder()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(api.handle), base_url="http://api"
    ) as client:
        outcome = await asyncio.wait_for(load.run_flows([client], mix(), schedule, rec), 10)

    assert outcome.flows == 10
    assert outcome.unfinished == 0
    assert rec.payments == 10
    browse = rec.steps["browse"]
    assert max(browse.latencies) >= 0.4  # the first waited for the tenth to start: latency
    assert {name: len(s.latencies) for name, s in rec.steps.items()} == {
        "browse": 10,
        "place-order": 10,
        "charge": 10,
        "webhook": 0,
        "ship": 10,
        "refund": 2,  # flows 0 and 5
        "list-orders": 10,
    }
    assert all(not s.statuses for s in rec.steps.values())


async def test_a_refused_charge_counts_by_status_and_ends_its_flow() -> None:
    api = FakeApi(charge_status=409)
    rec = load.Recorder()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(api.handle), base_url="http://api"
    ) as client:
        outcome = await load.run_flows([client], mix(), load.Schedule(0.2, 52), rec)

    figures = load.report(rec, outcome, None, {})
    assert outcome.flows == 2
    assert figures["steps"]["charge"]["errors"] == {"409": 2}
    assert figures["errors"] == 2
    assert figures["payments_per_second"] == 0
    assert not any("shipments" in path or path.endswith("/refund") for path in api.paths)


async def test_a_call_that_times_out_counts_by_the_clients_error() -> None:
    api = FakeApi()
    api.lists_time_out = True
    rec = load.Recorder()
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(api.handle), base_url="http://api"
    ) as client:
        outcome = await load.run_flows([client], mix(), load.Schedule(0.2, 52), rec)

    figures = load.report(rec, outcome, None, {})
    assert figures["steps"]["list-orders"]["errors"] == {"ReadTimeout": 2}
    assert figures["steps"]["ship"]["errors"] == {}
    assert figures["errors"] == 2
    assert rec.payments == 2  # what came before the failed call still counts


def test_a_server_of_ones_own_needs_a_key() -> None:
    with pytest.raises(SystemExit):
        load.parse_args(["--url", "http://127.0.0.1:8000"])


def test_a_short_run_against_its_own_server_has_every_step_and_no_error(tmp_path: Path) -> None:
    report_file = tmp_path / "report.json"
    args = ["--seconds", "3", "--rate", "20", "--warmup", "0", "--skus", "10"]
    args += ["--database-url", TEST_DATABASE_URL, "--log-level", "warning"]
    subprocess.run(
        [sys.executable, str(LOAD_SCRIPT), *args, "--json", str(report_file)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    figures = json.loads(report_file.read_text())

    # 3 s at 20 requests/s, 6.2 calls per flow: 10 flows, whatever the latency
    assert figures["flows"] == 10
    assert figures["unfinished_flows"] == 0
    assert figures["errors"] == 0
    assert set(figures["steps"]) == set(load.STEPS)
    for name, step in figures["steps"].items():
        assert step["requests"] == (2 if name == "refund" else 10), name
        assert step["errors"] == {}, name
        assert 0 < step["p50_ms"] <= step["p95_ms"] <= step["p99_ms"], name
    assert figures["requests"] == 62
    assert figures["payments_per_second"] > 0
    assert figures["webhooks_per_minute"] > 0
    assert figures["webhooks_recorded_after_s"] is not None  # the worker recorded them all
    assert figures["webhook_health"]["dead"] == 0
