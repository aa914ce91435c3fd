"""The reference for process-level tests: every projection built in one uninterrupted run.

The clean run reads the same event store (so the same events at the same
positions) and writes a second, fresh schema, with the real runner and the
PostgreSQL applier. Tables are compared through their serving views, for every
projection the worker runs (``registered_projections()``), whatever they are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg

from adapters.postgres.eventstore import PostgresEventStore
from adapters.postgres.readmodel import PostgresReadModel
from adapters.postgres.readmodel_sql import q
from commerce_core.eventstore import Position
from commerce_core.projections import Projection, serving_name
from commerce_core.projections.runner import ProjectionRunner
from tests.conftest import PgSchema

Rows = dict[str, list[dict[str, Any]]]


async def clean_rows(
    events: asyncpg.Pool, projections: Sequence[Projection], newest: Position
) -> Rows:
    """The rows ``projections`` leave after one run over ``events`` up to ``newest``.

    The run writes a fresh schema of its own, dropped afterwards.
    """
    into = await PgSchema.create()
    try:
        pool = await into.pool(max_size=4)
        try:
            runner = ProjectionRunner(
                PostgresEventStore(events), PostgresReadModel(pool), projections
            )
            async with runner, asyncio.timeout(60):
                for projection in projections:
                    await runner.wait_for(projection.name, newest)
            return await serving_rows(pool, projections)
        finally:
            await pool.close()
    finally:
        await into.drop()


async def serving_rows(
    conn: asyncpg.Pool | asyncpg.Connection, projections: Sequence[Projection]
) -> Rows:
    """Every row of every table of ``projections``, through its serving view, in key order."""
    found: Rows = {}
    for projection in projections:
        for spec in projection.tables:
            order = ", ".join(q(column) for column in spec.key)
            rows = await conn.fetch(f"SELECT * FROM {q(serving_name(spec.name))} ORDER BY {order}")
            found[spec.name] = [dict(row) for row in rows]
    return found
