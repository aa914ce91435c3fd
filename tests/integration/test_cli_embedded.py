"""The operator CLI with nothing set (no DATABASE_URL): beside `make run` it uses that
server's embedded PostgreSQL; with no server running it starts one for the command and
stops it after (ADR 0023)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.test_run import COMMERCE, free_port, wait_for_health

pytestmark = pytest.mark.slow


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_SCHEMA")}
    env.update(DATA_DIR=str(data_dir), EVENT_STORE="postgres")
    return env


def commerce(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COMMERCE, *args], env=cli_env(data_dir), capture_output=True, text=True, timeout=120
    )


def ok_json(data_dir: Path, *args: str) -> dict[str, Any]:
    done = commerce(data_dir, *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def postmaster_running(data_dir: Path) -> bool:
    return (data_dir / "pgdata" / "postmaster.pid").exists()


@dataclass
class DevServer:
    data_dir: Path
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text()


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """`make run`'s command on a fresh data directory, once for the module."""
    root = tmp_path_factory.mktemp("dev")
    data_dir, port = root / "var", free_port()
    env = cli_env(data_dir)
    env.update(PORT=str(port), HOST="127.0.0.1")
    log = root / "dev.log"
    with log.open("wb") as out:
        process = subprocess.Popen([COMMERCE, "dev"], env=env, stdout=out, stderr=out)
    server = DevServer(data_dir, f"http://127.0.0.1:{port}", process, log)
    try:
        wait_for_health(server.url, process)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def place_order(server: DevServer, admin_key: str) -> str:
    base, auth = f"{server.url}/api/v1", {"Authorization": f"Bearer {admin_key}"}
    with httpx.Client(base_url=base, headers=auth, timeout=10) as http:
        http.put(
            "/products/MUG-1", json={"name": "Mug", "price": {"amount": 1200, "currency": "USD"}}
        ).raise_for_status()
        http.post("/inventory/MUG-1/receipts", json={"quantity": 5}).raise_for_status()
        placed = http.post(
            "/orders",
            headers={"Idempotency-Key": "cli-order-1"},
            json={
                "customer": {"email": "ada@example.com"},
                "lines": [{"sku": "MUG-1", "quantity": 1}],
                "currency": "USD",
                "shipping_method": "standard",
            },
        )
        placed.raise_for_status()
        order_id: str = placed.json()["id"]
        return order_id


def test_make_run_prints_the_database_url_it_uses(dev_server: DevServer) -> None:
    pgdata = dev_server.data_dir.resolve() / "pgdata"
    assert f"postgresql://postgres:@/postgres?host={pgdata}" in dev_server.output()


def test_the_cli_beside_make_run_uses_its_database_with_nothing_set(
    dev_server: DevServer,
) -> None:
    data_dir = dev_server.data_dir

    created = ok_json(data_dir, "tenant", "create", "shop")
    staff = ok_json(data_dir, "key", "create", "--tenant", "shop", "--role", "staff")
    by_id = ok_json(
        data_dir, "key", "create", "--tenant", created["tenant_id"], "--role", "service"
    )
    reconciled = ok_json(data_dir, "jobs", "run", "reconcile", "--date", "2026-01-01")
    order_id = place_order(dev_server, created["api_key"])
    replayed = ok_json(data_dir, "replay", "order", order_id, "--format", "json")

    # the keys the CLI made are the server's: it sees the tenant and the staff key
    with httpx.Client(base_url=f"{dev_server.url}/api/v1", timeout=10) as http:
        for key in (staff["api_key"], by_id["api_key"]):
            seen = http.get(f"/orders/{order_id}", headers={"Authorization": f"Bearer {key}"})
            assert seen.status_code == 200, seen.text
    assert reconciled["job"] == "reconcile 2026-01-01"
    assert replayed["id"] == order_id
    assert [e["type"] for e in replayed["events"]][:1] == ["Order.Placed"]
    # the commands attached to the running server and left it running
    assert postmaster_running(data_dir)
    assert httpx.get(f"{dev_server.url}/ready", timeout=5).status_code == 200


def test_errors_beside_make_run_are_one_line_and_a_non_zero_exit(dev_server: DevServer) -> None:
    missing_tenant = commerce(
        dev_server.data_dir, "key", "create", "--tenant", "nobody", "--role", "staff"
    )
    missing_order = commerce(
        dev_server.data_dir, "replay", "order", "00000000-0000-0000-0000-000000000001"
    )

    for done in (missing_tenant, missing_order):
        assert done.returncode == 1
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
    assert "no tenant 'nobody'" in missing_tenant.stderr
    assert "no order 00000000-0000-0000-0000-000000000001" in missing_order.stderr


def test_an_unreachable_database_is_one_line_naming_the_url_without_its_password(
    tmp_path: Path,
) -> None:
    env = {
        **cli_env(tmp_path),
        "DATABASE_URL": f"postgresql://ops:s3cret@127.0.0.1:{free_port()}/x",
    }

    done = subprocess.run(
        [COMMERCE, "jobs", "run", "reconcile"], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cannot reach the database at postgresql://ops:***@127.0.0.1" in done.stderr
    assert "s3cret" not in done.stderr


def test_with_no_server_each_command_starts_the_database_and_stops_it_after(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "var"

    # a fresh clone: the first command creates and migrates the database
    created = ok_json(data_dir, "tenant", "create", "solo")
    assert not postmaster_running(data_dir)

    # two at once must share one server, not start two or stop it under the other
    def key_of(role: str) -> subprocess.CompletedProcess[str]:
        return commerce(data_dir, "key", "create", "--tenant", "solo", "--role", role)

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(key_of, ["staff", "service"]))
    for done in runs:
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["api_key"].startswith("ck_live_")
    again = ok_json(data_dir, "key", "create", "--tenant", created["tenant_id"], "--role", "admin")
    assert again["api_key"].startswith("ck_live_")
    assert not postmaster_running(data_dir), "the database was left running"
