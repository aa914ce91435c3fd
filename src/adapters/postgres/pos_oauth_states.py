"""Issued POS OAuth states in PostgreSQL (migration 0032): by digest, taken once."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from commerce_core.channels.oauth import OAuthState

_GRACE = timedelta(days=1)
"""Expired states are kept a day, so a late callback is told its state expired."""


class PostgresOAuthStates:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def issue(self, digest: str, state: OAuthState, at: datetime) -> None:
        async with self._pool.acquire() as connection, connection.transaction():
            # States are short-lived: the expired are swept as new ones are issued.
            await connection.execute(
                "DELETE FROM pos_oauth_states WHERE expires_at < $1", at - _GRACE
            )
            await connection.execute(
                "INSERT INTO pos_oauth_states (state, tenant_id, pos, created_at, expires_at)"
                " VALUES ($1, $2, $3, $4, $5)",
                digest,
                state.tenant_id,
                state.pos,
                at,
                state.expires_at,
            )

    async def take(self, digest: str) -> OAuthState | None:
        row = await self._pool.fetchrow(
            "DELETE FROM pos_oauth_states WHERE state = $1 RETURNING tenant_id, pos, expires_at",
            digest,
        )
        if row is None:
            return None
        return OAuthState(tenant_id=row["tenant_id"], pos=row["pos"], expires_at=row["expires_at"])
