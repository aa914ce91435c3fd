"""The operators' replay, export and projections commands, run as processes on a private schema."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.readmodel import PostgresReadModel
from commerce_core.eventstore import Position, Repository
from commerce_core.projections.order_list import OrderList
from commerce_core.projections.ports.read_models import ProjectionState
from commerce_core.projections.runner import ProjectionRunner
from tests.conftest import PgSchema
from tests.integration.http.test_cli import Cli
from tests.unit.order_story import Clock, Story, tell_story


@dataclass
class World:
    cli: Cli
    pool: asyncpg.Pool
    tenant_id: str
    story: Story


async def caught_up(pool: asyncpg.Pool, store: PostgresEventStore) -> None:
    """Runs the order list until it has applied every event and is live (its query indexes
    are built after the catch-up, ADR 0045), then stops it."""
    runner = ProjectionRunner(store, PostgresReadModel(pool), [OrderList()])
    row = await pool.fetchrow(
        "SELECT tx_id, global_position FROM events ORDER BY tx_id DESC, global_position DESC"
        " LIMIT 1"
    )
    assert row is not None
    async with runner:
        async with asyncio.timeout(20):
            await runner.wait_for("order_list", Position(row[0], row[1]))
            await runner.wait_for_state("order_list", ProjectionState.LIVE)


@pytest.fixture
async def world(pg_schema: PgSchema) -> AsyncIterator[World]:
    cli = Cli(pg_schema)
    created = await cli.json("tenant", "create", "acme")
    pool = await pg_schema.pool(max_size=5)
    store = PostgresEventStore(pool, poll_interval=0.02)
    story = await tell_story(Repository(store), Clock(), created["tenant_id"])
    await caught_up(pool, store)
    yield World(cli, pool, created["tenant_id"], story)
    await pool.close()


async def statuses(world: World) -> list[dict[str, Any]]:
    code, out, err = await world.cli.run("projections", "status", "--format", "json")
    assert code == 0, err
    found: list[dict[str, Any]] = json.loads(out)
    return found


async def replay(world: World, *args: str) -> dict[str, Any]:
    found: dict[str, Any] = await world.cli.json("replay", *args, "--format", "json")
    return found


async def test_replay_order_prints_the_timeline_and_state_as_json(world: World) -> None:
    body = await replay(world, "order", str(world.story.order_id))

    types = [e["type"] for e in body["events"]]
    assert types[:3] == ["Order.Placed", "OrderLedger.Started", "StockItem.Reserved"]
    assert types[-1] == "Order.ShipmentRecorded"
    assert body["events"][0]["metadata"]["correlation_id"] == "place"
    assert body["events"][0]["at"].endswith("Z")
    assert (body["state"]["status"], body["state"]["version"]) == ("shipped", 5)


async def test_replay_as_of_a_version_or_a_timestamp(world: World) -> None:
    order_id = str(world.story.order_id)
    everything = (await replay(world, "order", order_id))["events"]
    paid_at = next(e["at"] for e in everything if e["type"] == "Order.PaymentRecorded")

    by_version = await replay(world, "order", order_id, "--version", "2")
    by_time = await replay(world, "order", order_id, "--as-of", paid_at)

    assert by_version["state"]["status"] == "payment_failed"
    assert by_version["events"][-1]["type"] == "Order.PaymentFailed"
    assert by_time["state"]["status"] == "paid"
    assert by_time["events"][-1]["at"] == paid_at


async def test_replay_payment_and_the_table_for_people(world: World) -> None:
    payment = await replay(world, "payment", str(world.story.payment_id))
    code, out, err = await world.cli.run("replay", "order", str(world.story.order_id))

    assert payment["state"]["status"] == "partially_refunded"
    assert code == 0, err
    lines = out.splitlines()
    header = lines[1]
    assert header.split() == ["AT", "STREAM", "V", "TYPE", "ACTOR", "CORRELATION", "DATA"]
    placed = next(line for line in lines if "Order.Placed" in line)
    assert placed.index("Order.Placed") == header.index("TYPE")  # aligned columns
    assert "\x1b[" not in out  # no colours when stdout is not a terminal
    assert '"status": "shipped"' in out


async def test_replay_of_an_unknown_order_fails(world: World) -> None:
    code, _, err = await world.cli.run("replay", "order", str(world.story.payment_id))

    assert code == 1
    assert "no order" in err


async def test_events_export_streams_the_tenants_events_as_json_lines(world: World) -> None:
    code, out, err = await world.cli.run("events", "export", "--tenant", "acme")
    records = [json.loads(line) for line in out.splitlines()]
    window = records[4]["recorded_at"]
    code_window, out_window, _ = await world.cli.run(
        "events", "export", "--tenant", world.tenant_id, "--from", window, "--to", window
    )

    assert code == 0, err
    assert len(records) == 24
    assert {r["tenant_id"] for r in records} == {world.tenant_id}
    assert [r["position"] for r in records] == sorted(r["position"] for r in records)
    assert records[4]["type"].endswith("Order.Placed")
    assert records[4]["data"]["number"] == "ORD-000001"
    assert "exported 24 event(s)" in err
    assert code_window == 0
    assert out_window == ""  # --to is exclusive


async def test_projections_status_verify_and_rebuild(world: World) -> None:
    status = await statuses(world)
    await world.pool.execute(
        "UPDATE rm_order_list_v1 SET status = 'cancelled' WHERE order_id = $1",
        world.story.order_id,
    )

    tampered = await world.cli.run("projections", "verify", "order_list")
    rebuilt = await world.cli.run("projections", "rebuild", "order_list")
    clean = await world.cli.run("projections", "verify", "order_list")
    after = await statuses(world)

    order_list = next(p for p in status if p["name"] == "order_list")
    assert (order_list["status"], order_list["serving"]) == ("live", True)
    assert tampered[0] == 1
    assert "status" in tampered[1]
    assert "cancelled" in tampered[1]
    assert "shipped" in tampered[1]
    assert rebuilt[0] == 0, rebuilt[2]
    assert "order_list v1 rebuild:" in rebuilt[2]  # progress on stderr
    assert rebuilt[1].startswith("order_list v1 rebuild: 24/24 events (100%)")
    assert rebuilt[1].rstrip().endswith("done")
    assert clean[0] == 0, clean[2]
    assert "match" in clean[1]
    row = await world.pool.fetchrow(
        "SELECT status FROM rm_order_list WHERE order_id = $1", world.story.order_id
    )
    assert row is not None
    assert row["status"] == "shipped"
    run = next(p for p in after if p["name"] == "order_list")["rebuild"]
    assert (run["status"], run["done"], run["total"]) == ("done", 24, 24)


async def test_unknown_projections_are_refused(world: World) -> None:
    code, _, err = await world.cli.run("projections", "rebuild", "nothing")

    assert code == 1
    assert "no projection 'nothing'" in err
