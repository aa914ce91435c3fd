"""Read models on PostgreSQL: projection tables, checkpoints, and exactly-once batches.

Each projection version writes its own tables (``rm_<table>_v<N>``); queries
read views (``rm_<table>``) on the serving version's tables, so a new version
builds beside the old one and takes over in one transaction. A batch of
changes runs as a few set-based statements (see ``commerce_core.projections.plan``)
in the same transaction as a conditional update of the checkpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import msgspec

from adapters.postgres.connection import Connection
from adapters.postgres.readmodel_sql import (
    TYPNAMES,
    create_indexes,
    create_table,
    group_statement,
    q,
)
from commerce_core.eventstore import START, Position
from commerce_core.projections import (
    Change,
    Checkpoint,
    CheckpointConflictError,
    InvalidChangeError,
    Projection,
    ProjectionState,
    QuarantineChangedError,
    QuarantinedEvent,
    ReadModelSchemaError,
    TableSpec,
    check_changes,
    physical_name,
    serving_name,
)
from commerce_core.projections.plan import plan

# Serializes preparing and promoting versions of one projection (never taken by
# appends or batches): two classes of lock keys never collide with one-key locks.
_ADMIN_LOCK_CLASS = 0x726D6164

_ADVANCE = """
UPDATE projection_checkpoints
SET tx_id = $3::xid8, global_position = $4, updated_at = now()
WHERE name = $1 AND version = $2 AND tx_id = $5::xid8 AND global_position = $6
"""
_REGISTER = """
INSERT INTO projection_checkpoints (name, version, status, serving)
SELECT $1, $2, CASE WHEN s.none THEN 'catching_up' ELSE 'rebuilding' END, s.none
FROM (SELECT NOT EXISTS (
        SELECT 1 FROM projection_checkpoints WHERE name = $1 AND serving) AS none) AS s
ON CONFLICT (name, version) DO NOTHING
RETURNING serving
"""
_CHECKPOINTS = """
SELECT name, version, tx_id, global_position, status, serving, error
FROM projection_checkpoints
"""
_COLUMNS = """
SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
"""
_HELD_TENANTS = """
SELECT coalesce(array_agg(DISTINCT tenant_id), '{}')
FROM projection_quarantine WHERE name = $1 AND version = $2
"""
_QUARANTINE = """
INSERT INTO projection_quarantine (name, version, tenant_id, tx_id, global_position, event_id,
    stream_id, stream_version, event_type, failed, error)
VALUES ($1, $2, $3, $4::xid8, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (name, version, event_id) DO NOTHING
"""
_QUARANTINED = """
SELECT name, version, tenant_id, tx_id, global_position, event_id, stream_id, stream_version,
    event_type, failed, error
FROM projection_quarantine
WHERE ($1::text IS NULL OR name = $1) AND ($2::integer IS NULL OR version = $2)
    AND ($3::text IS NULL OR tenant_id = $3)
ORDER BY name, version, tx_id, global_position
"""
_HOLD_CHECKPOINT = """
SELECT 1 FROM projection_checkpoints WHERE name = $1 AND version = $2 FOR UPDATE
"""
_RELEASE = "DELETE FROM projection_quarantine WHERE name = $1 AND version = $2 AND event_id = $3"
_DATA_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)


def _checkpoint(row: asyncpg.Record) -> Checkpoint:
    return Checkpoint(
        name=row["name"],
        version=row["version"],
        position=Position(row["tx_id"], row["global_position"]),
        state=ProjectionState(row["status"]),
        serving=row["serving"],
        error=row["error"],
    )


class PostgresReadModel:
    """The read-model store on an asyncpg pool (see ``connection.create_pool``).

    ``before_commit`` is a test seam: awaited inside each batch's transaction
    after its statements, so a test can fail a batch just before it commits.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        before_commit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._pool = pool
        self._before_commit = before_commit
        self._specs: dict[tuple[str, int], TableSpec] = {}
        self._owners: dict[str, str] = {}

    async def prepare(self, projection: Projection, *, defer_indexes: bool = False) -> Checkpoint:
        for spec in projection.tables:
            self._specs[(spec.name, projection.version)] = spec
            self._owners[spec.name] = projection.name
        async with self._pool.acquire() as conn, conn.transaction():
            await self._lock_admin(conn, projection.name)
            for spec in projection.tables:
                physical = physical_name(spec.name, projection.version)
                await _check_shape(conn, spec, physical)
                for statement in create_table(spec, physical, secondary=False):
                    await conn.execute(statement)
            serving = await conn.fetchval(_REGISTER, projection.name, projection.version)
            if serving:
                await self._point_views(conn, projection)
            row = await conn.fetchrow(
                _CHECKPOINTS + " WHERE name = $1 AND version = $2",
                projection.name,
                projection.version,
            )
            assert row is not None  # registered above
            checkpoint = _checkpoint(row)
            if not defer_indexes or checkpoint.position != START:
                # a table with rows keeps its indexes: filling it is no longer the cost
                await _create_indexes(conn, projection)
        return checkpoint

    async def build_indexes(self, projection: Projection) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._lock_admin(conn, projection.name)
            await _create_indexes(conn, projection)

    async def apply(
        self,
        projection: Projection,
        changes: Sequence[Change],
        expected: Position,
        position: Position,
        *,
        quarantine: Sequence[QuarantinedEvent] = (),
        held: frozenset[str] | None = None,
    ) -> None:
        statements = _statements(projection, changes)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                # the checkpoint first: a second writer waits here, then finds it moved
                advanced = await conn.execute(
                    _ADVANCE, projection.name, projection.version, *position, *expected
                )
                if advanced != "UPDATE 1":
                    raise CheckpointConflictError(f"{projection.key} is not at {expected}")
                if held is not None:
                    found = await conn.fetchval(_HELD_TENANTS, projection.name, projection.version)
                    if frozenset(found) != held:
                        raise QuarantineChangedError(f"{projection.key}: the quarantine changed")
                for sql, arguments in statements:
                    await conn.execute(sql, *arguments)
                if quarantine:
                    await conn.executemany(_QUARANTINE, [_quarantine_row(e) for e in quarantine])
                if self._before_commit is not None:
                    await self._before_commit()
        except _DATA_ERRORS as error:
            raise InvalidChangeError(f"{projection.key}: {error}") from error

    async def quarantined(
        self, name: str | None = None, version: int | None = None, tenant_id: str | None = None
    ) -> list[QuarantinedEvent]:
        rows = await self._pool.fetch(_QUARANTINED, name, version, tenant_id)
        return [_quarantined(row) for row in rows]

    async def release(
        self, projection: Projection, entry: QuarantinedEvent, changes: Sequence[Change]
    ) -> None:
        statements = _statements(projection, changes)
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                # the checkpoint row first, as a batch takes it: never beside a batch
                await conn.execute(_HOLD_CHECKPOINT, projection.name, projection.version)
                released = await conn.execute(_RELEASE, entry.name, entry.version, entry.event_id)
                if released != "DELETE 1":
                    raise QuarantineChangedError(f"event {entry.event_id} is not held any more")
                for sql, arguments in statements:
                    await conn.execute(sql, *arguments)
        except _DATA_ERRORS as error:
            raise InvalidChangeError(f"{projection.key}: {error}") from error

    async def mark_failed(self, entry: QuarantinedEvent, error: str) -> None:
        await self._pool.execute(
            "UPDATE projection_quarantine SET failed = true, error = $4"
            " WHERE name = $1 AND version = $2 AND event_id = $3",
            entry.name,
            entry.version,
            entry.event_id,
            error,
        )

    async def set_state(
        self, projection: Projection, state: ProjectionState, error: str | None = None
    ) -> None:
        if state not in (
            ProjectionState.CATCHING_UP,
            ProjectionState.REBUILDING,
            ProjectionState.LIVE,
            ProjectionState.FAILED,
        ):
            return  # standby and stopped describe a runner, not the projection
        await self._pool.execute(
            "UPDATE projection_checkpoints SET status = $3, error = $4, updated_at = now()"
            " WHERE name = $1 AND version = $2",
            projection.name,
            projection.version,
            state.value,
            error,
        )

    async def promote(self, projection: Projection) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await self._lock_admin(conn, projection.name)
            # two statements: the unique index on serving is checked row by row
            await conn.execute(
                "UPDATE projection_checkpoints SET serving = false"
                " WHERE name = $1 AND version <> $2 AND serving",
                projection.name,
                projection.version,
            )
            await conn.execute(
                "UPDATE projection_checkpoints SET serving = true WHERE name = $1 AND version = $2",
                projection.name,
                projection.version,
            )
            await self._point_views(conn, projection)

    async def checkpoints(self) -> list[Checkpoint]:
        rows = await self._pool.fetch(_CHECKPOINTS + " ORDER BY name, version")
        return [_checkpoint(row) for row in rows]

    async def rows(
        self, table: str, version: int | None = None, **where: Any
    ) -> list[dict[str, Any]]:
        if version is None:
            version = await self._serving_version(table)
            relation = serving_name(table)
        else:
            relation = physical_name(table, version)
        spec = self._specs[(table, version)]
        conditions, args = [], []
        for name, value in where.items():
            if value is None:
                conditions.append(f"{q(name)} IS NULL")
            else:
                args.append(value)
                conditions.append(f"{q(name)} = ${len(args)}")
        sql = f"SELECT * FROM {q(relation)}"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        found = [
            {k: decoded_value(spec, k, v) for k, v in row.items()}
            for row in await self._pool.fetch(sql, *args)
        ]
        return sorted(found, key=spec.key_of)

    async def _serving_version(self, table: str) -> int:
        owner = self._owners[table]
        version = await self._pool.fetchval(
            "SELECT version FROM projection_checkpoints WHERE name = $1 AND serving", owner
        )
        if version is None:
            raise LookupError(f"no version of {owner} serves table {table}")
        return int(version)

    @staticmethod
    async def _lock_admin(conn: Connection, name: str) -> None:
        await lock_projection_admin(conn, name)

    @staticmethod
    async def _point_views(conn: Connection, projection: Projection) -> None:
        for spec in projection.tables:
            view = q(serving_name(spec.name))
            await conn.execute(f"DROP VIEW IF EXISTS {view}")
            physical = q(physical_name(spec.name, projection.version))
            await conn.execute(f"CREATE VIEW {view} AS SELECT * FROM {physical}")


async def lock_projection_admin(conn: Connection, name: str) -> None:
    """Serializes, until the transaction ends, changes of which tables a projection uses."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext(current_schema() || '.' || $2))",
        _ADMIN_LOCK_CLASS,
        name,
    )


def _statements(projection: Projection, changes: Sequence[Change]) -> list[tuple[str, list[Any]]]:
    specs = projection.table_specs()
    check_changes(changes, specs)
    return [
        group_statement(group, physical_name(group.table.name, projection.version))
        for group in plan(changes, specs)
    ]


def _quarantine_row(entry: QuarantinedEvent) -> tuple[Any, ...]:
    return (
        entry.name,
        entry.version,
        entry.tenant_id,
        *entry.position,
        entry.event_id,
        entry.stream_id,
        entry.stream_version,
        entry.event_type,
        entry.failed,
        entry.error,
    )


def _quarantined(row: asyncpg.Record) -> QuarantinedEvent:
    return QuarantinedEvent(
        name=row["name"],
        version=row["version"],
        tenant_id=row["tenant_id"],
        position=Position(row["tx_id"], row["global_position"]),
        event_id=row["event_id"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        event_type=row["event_type"],
        failed=row["failed"],
        error=row["error"],
    )


async def insert_quarantine(conn: Connection, entries: Sequence[QuarantinedEvent]) -> None:
    """Adds held events (a rebuild's, in its swap transaction)."""
    if entries:
        await conn.executemany(_QUARANTINE, [_quarantine_row(e) for e in entries])


def decoded_value(spec: TableSpec, name: str, value: Any) -> Any:
    """A column's value as read: jsonb arrives as raw JSON bytes."""
    column = spec.by_name.get(name)
    if column is not None and column.type == "jsonb" and value is not None:
        return msgspec.json.decode(value)
    return value


async def _create_indexes(conn: Connection, projection: Projection) -> None:
    for spec in projection.tables:
        for statement in create_indexes(spec, physical_name(spec.name, projection.version)):
            await conn.execute(statement)


async def _check_shape(conn: Connection, spec: TableSpec, physical: str) -> None:
    """Refuses to reuse a table whose columns differ from the spec's."""
    found = {row[0]: row[1] for row in await conn.fetch(_COLUMNS, physical)}
    wanted = {c.name: TYPNAMES[c.type] for c in spec.columns}
    if found and found != wanted:
        raise ReadModelSchemaError(
            f"table {physical} has columns {found}, but the spec says {wanted}:"
            " give the projection a new version"
        )
