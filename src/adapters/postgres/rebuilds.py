"""Shadow tables on PostgreSQL: rebuild beside the live tables, swap in one transaction.

A version's live tables keep their names (``rm_<table>_v<N>``), so a live
runner in any process just goes on writing them after a swap. The swap locks
the version's checkpoint row first (a runner's batch updates that row before
touching any table, so it waits there rather than in the middle), then the
serving views (readers lock a view before its table, so taking the same order
cannot deadlock with them), re-points each view with ``CREATE OR REPLACE VIEW``
(same columns, same view), drops the old table and gives the new one, its
primary key and its indexes the live names. Readers waiting on the view's lock
see the new rows once the swap commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from adapters.postgres.connection import Connection
from adapters.postgres.readmodel import decoded_value, insert_quarantine, lock_projection_admin
from adapters.postgres.readmodel_sql import (
    create_indexes,
    create_table,
    group_statement,
    index_name,
    q,
)
from commerce_core.eventstore import Position
from commerce_core.projections import (
    Change,
    InvalidChangeError,
    Projection,
    TableSpec,
    check_change,
    physical_name,
    serving_name,
)
from commerce_core.projections.plan import plan
from commerce_core.projections.shadow import (
    Held,
    Purpose,
    RebuildProgress,
    RowDifference,
    Tail,
    differences,
)
from commerce_core.projections.tables import shadow_name

_HOLD_CHECKPOINT = """
SELECT tx_id, global_position, serving FROM projection_checkpoints
WHERE name = $1 AND version = $2 FOR UPDATE
"""
_PKEY = "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'"
_SAVE = """
INSERT INTO projection_rebuilds
    (name, version, kind, status, done, total, started_at, updated_at, error, quarantined)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (name, version, kind) DO UPDATE SET
    status = EXCLUDED.status, done = EXCLUDED.done, total = EXCLUDED.total,
    started_at = EXCLUDED.started_at, updated_at = EXCLUDED.updated_at, error = EXCLUDED.error,
    quarantined = EXCLUDED.quarantined
"""
_DATA_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)


class PostgresRebuildStore:
    """The ``RebuildStore`` port on an asyncpg pool (the read models' schema)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def create_shadow(self, projection: Projection, purpose: Purpose) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            for spec in projection.tables:
                shadow = shadow_name(spec.name, projection.version, purpose)
                await conn.execute(f"DROP TABLE IF EXISTS {q(shadow)}")
                # the indexes that only serve queries come at the swap, once the rows are in
                for statement in create_table(spec, shadow, secondary=False):
                    await conn.execute(statement)

    async def apply_shadow(
        self, projection: Projection, purpose: Purpose, changes: Sequence[Change]
    ) -> None:
        if changes:
            async with self._pool.acquire() as conn, conn.transaction():
                await _apply(conn, projection, purpose, changes)

    async def swap_shadow(
        self, projection: Projection, tail: Tail, held: Held | None = None
    ) -> Position:
        async with self._pool.acquire() as conn:
            # before the swap's transaction, which holds the live runner while it runs
            for spec in projection.tables:
                shadow = shadow_name(spec.name, projection.version, "rebuild")
                for statement in create_indexes(spec, shadow):
                    await conn.execute(statement)
        async with self._pool.acquire() as conn, conn.transaction():
            await lock_projection_admin(conn, projection.name)  # no promote meanwhile
            position, serving = await _hold(conn, projection)
            await _apply(conn, projection, "rebuild", await tail(position))
            if held is not None:
                # what the rebuilt tables lack is exactly what the build held
                await conn.execute(
                    "DELETE FROM projection_quarantine WHERE name = $1 AND version = $2",
                    projection.name,
                    projection.version,
                )
                await insert_quarantine(conn, held())
            views = [serving_name(spec.name) for spec in projection.tables] if serving else []
            existing = [v for v in views if await conn.fetchval("SELECT to_regclass($1)", v)]
            if existing:
                await conn.execute(
                    f"LOCK TABLE {', '.join(q(v) for v in existing)} IN ACCESS EXCLUSIVE MODE"
                )
            for spec in projection.tables:
                await _swap_table(conn, spec, projection.version, serving)
        return position

    async def diff_shadow(
        self, projection: Projection, tail: Tail, limit: int
    ) -> list[RowDifference]:
        found: list[RowDifference] = []
        async with self._pool.acquire() as conn, conn.transaction():
            position, _ = await _hold(conn, projection)
            await _apply(conn, projection, "verify", await tail(position))
            for spec in projection.tables:
                live = physical_name(spec.name, projection.version)
                rebuilt = shadow_name(spec.name, projection.version, "verify")
                found += differences(
                    spec,
                    await _except(conn, spec, live, rebuilt, limit),
                    await _except(conn, spec, rebuilt, live, limit),
                )
        return found[:limit]

    async def drop_shadow(self, projection: Projection, purpose: Purpose) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            for spec in projection.tables:
                shadow = shadow_name(spec.name, projection.version, purpose)
                await conn.execute(f"DROP TABLE IF EXISTS {q(shadow)}")

    async def save_progress(self, progress: RebuildProgress) -> None:
        await self._pool.execute(
            _SAVE,
            progress.name,
            progress.version,
            progress.kind,
            progress.status,
            progress.done,
            progress.total,
            progress.started_at,
            progress.updated_at,
            progress.error,
            progress.quarantined,
        )

    async def rebuilds(self) -> list[RebuildProgress]:
        rows = await self._pool.fetch(
            "SELECT name, version, kind, status, done, total, started_at, updated_at, error,"
            " quarantined"
            " FROM projection_rebuilds ORDER BY name, version, kind"
        )
        return [RebuildProgress(**dict(row)) for row in rows]


async def _hold(conn: Connection, projection: Projection) -> tuple[Position, bool]:
    """Locks the version's checkpoint row until the transaction ends: the runner waits."""
    row = await conn.fetchrow(_HOLD_CHECKPOINT, projection.name, projection.version)
    if row is None:
        raise LookupError(f"{projection.key} has no checkpoint")
    return Position(row[0], row[1]), bool(row[2])


async def _apply(
    conn: Connection, projection: Projection, purpose: Purpose, changes: Sequence[Change]
) -> None:
    specs = projection.table_specs()
    for change in changes:
        check_change(change, specs)
    try:
        for group in plan(changes, specs):
            target = shadow_name(group.table.name, projection.version, purpose)
            sql, arrays = group_statement(group, target)
            await conn.execute(sql, *arrays)
    except _DATA_ERRORS as error:
        raise InvalidChangeError(f"{projection.key}: {error}") from error


async def _swap_table(conn: Connection, spec: TableSpec, version: int, serving: bool) -> None:
    live = physical_name(spec.name, version)
    shadow = shadow_name(spec.name, version, "rebuild")
    live_pkey = await conn.fetchval(_PKEY, live) or f"{live}_pkey"
    shadow_pkey = await conn.fetchval(_PKEY, shadow)
    if serving:
        await conn.execute(
            f"CREATE OR REPLACE VIEW {q(serving_name(spec.name))} AS SELECT * FROM {q(shadow)}"
        )
    await conn.execute(f"DROP TABLE IF EXISTS {q(live)}")
    await conn.execute(f"ALTER TABLE {q(shadow)} RENAME TO {q(live)}")
    if shadow_pkey and shadow_pkey != live_pkey:
        await conn.execute(
            f"ALTER TABLE {q(live)} RENAME CONSTRAINT {q(shadow_pkey)} TO {q(live_pkey)}"
        )
    for index in spec.indexes:
        old = index_name(shadow, index.columns, index.unique)
        new = index_name(live, index.columns, index.unique)
        await conn.execute(f"ALTER INDEX IF EXISTS {q(old)} RENAME TO {q(new)}")


async def _except(
    conn: Connection, spec: TableSpec, table: str, other: str, limit: int
) -> list[dict[str, Any]]:
    """Rows of ``table`` that ``other`` does not hold exactly (at most ``limit``)."""
    columns = ", ".join(q(c.name) for c in spec.columns)
    rows = await conn.fetch(
        f"SELECT {columns} FROM {q(table)} EXCEPT SELECT {columns} FROM {q(other)} LIMIT $1",
        limit,
    )
    return [{k: decoded_value(spec, k, v) for k, v in row.items()} for row in rows]
