"""Tenants' POS connections in memory, sealed as in PostgreSQL (unit tests, `make run`)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from adapters.crypto.gateway_secrets import SealedCredentials
from adapters.crypto.pos_secrets import PosSecretBox
from commerce_core.channels.connections import (
    Oversell,
    PosConnection,
    PosName,
    PosSecrets,
    Resolution,
    SyncStatus,
)
from commerce_core.eventstore.records import Position


class MemoryPosConnections:
    """Keeps each connection with its secrets sealed, never the plaintext."""

    def __init__(self, master_key: bytes) -> None:
        self._secrets = PosSecretBox(master_key)
        self.rows: dict[tuple[UUID, str], tuple[PosConnection, SealedCredentials]] = {}
        self.oversells: dict[tuple[UUID, str, str], Oversell] = {}

    async def put(self, connection: PosConnection) -> None:
        sealed = self._secrets.seal(connection.tenant_id, connection.pos, connection.secrets)
        kept = msgspec.structs.replace(
            connection,
            secrets=PosSecrets(),
            sync=msgspec.structs.replace(connection.sync, failures=0, next_attempt_at=None),
        )
        self.rows[(connection.tenant_id, str(connection.pos))] = (kept, sealed)

    async def get(self, tenant_id: UUID, pos: str) -> PosConnection | None:
        row = self.rows.get((tenant_id, pos))
        if row is None:
            return None
        kept, sealed = row
        count = sum(
            1
            for key, oversell in self.oversells.items()
            if key[:2] == (tenant_id, pos) and oversell.resolution is None
        )
        return msgspec.structs.replace(
            kept,
            secrets=self._secrets.open(tenant_id, pos, sealed),
            sync=msgspec.structs.replace(kept.sync, oversells=count),
        )

    async def of_tenant(self, tenant_id: UUID) -> list[PosConnection]:
        names = sorted(pos for tenant, pos in self.rows if tenant == tenant_id)
        return [c for pos in names if (c := await self.get(tenant_id, pos)) is not None]

    async def enabled(self) -> list[tuple[UUID, PosName]]:
        return [(t, PosName(p)) for (t, p), (c, _) in sorted(self.rows.items()) if c.enabled]

    async def with_merchant(self, pos: str, merchant_id: str) -> list[PosConnection]:
        return [
            connection
            for (tenant_id, name), (kept, _) in self.rows.items()
            if name == pos and kept.enabled and kept.details.merchant_id == merchant_id
            if (connection := await self.get(tenant_id, name)) is not None
        ]

    async def applied(self, tenant_id: UUID, pos: str, cursor: str, at: datetime) -> None:
        kept, _ = self.rows[(tenant_id, pos)]
        sync = msgspec.structs.replace(
            kept.sync,
            cursor=cursor,
            last_synced_at=at,
            last_error=None,
            failures=0,
            next_attempt_at=None,
        )
        self._change(tenant_id, pos, sync)

    async def failed(
        self, tenant_id: UUID, pos: str, error: str, at: datetime, retry_at: datetime
    ) -> None:
        kept, _ = self.rows[(tenant_id, pos)]
        sync = msgspec.structs.replace(
            kept.sync,
            failures=kept.sync.failures + 1,
            last_error=error[:500],
            next_attempt_at=retry_at,
        )
        self._change(tenant_id, pos, sync)

    async def record_oversell(self, tenant_id: UUID, pos: str, oversell: Oversell) -> bool:
        key = (tenant_id, pos, oversell.external_id)
        if key in self.oversells:
            return False
        self.oversells[key] = oversell
        return True

    async def counts_pushed(self, tenant_id: UUID, pos: str, digest: str) -> None:
        if (tenant_id, pos) in self.rows:
            kept, _ = self.rows[(tenant_id, pos)]
            self._change(tenant_id, pos, msgspec.structs.replace(kept.sync, counts_digest=digest))

    async def pushed_through(self, tenant_id: UUID, pos: str, position: Position) -> None:
        if (tenant_id, pos) in self.rows:
            kept, _ = self.rows[(tenant_id, pos)]
            self._change(tenant_id, pos, msgspec.structs.replace(kept.sync, push_position=position))

    async def oversells_of(self, tenant_id: UUID, pos: str, open_only: bool) -> list[Oversell]:
        found = [
            oversell
            for key, oversell in self.oversells.items()
            if key[:2] == (tenant_id, pos) and not (open_only and oversell.resolution)
        ]
        return sorted(found, key=lambda o: (-o.recorded_at.timestamp(), o.external_id))

    async def resolve_oversell(
        self, tenant_id: UUID, pos: str, external_id: str, resolution: Resolution
    ) -> Oversell | None:
        key = (tenant_id, pos, external_id)
        found = self.oversells.get(key)
        if found is None or found.resolution is not None:
            return found
        self.oversells[key] = msgspec.structs.replace(found, resolution=resolution)
        return self.oversells[key]

    async def verification_requested(self, pos: str, code: str) -> int:
        waiting = [
            key
            for key in self.rows
            if key[1] == pos
            and (found := await self.get(*key)) is not None
            and found.awaits_webhook_auth()
        ]
        for key in waiting:
            kept, sealed = self.rows[key]
            self.rows[key] = (msgspec.structs.replace(kept, verification_code=code), sealed)
        return len(waiting)

    async def tokens_refreshed(self, tenant_id: UUID, pos: str, secrets: PosSecrets) -> None:
        if (tenant_id, pos) in self.rows:
            kept, _ = self.rows[(tenant_id, pos)]
            self.rows[(tenant_id, pos)] = (kept, self._secrets.seal(tenant_id, pos, secrets))

    def _change(self, tenant_id: UUID, pos: str, sync: SyncStatus) -> None:
        if (tenant_id, pos) in self.rows:
            kept, sealed = self.rows[(tenant_id, pos)]
            self.rows[(tenant_id, pos)] = (msgspec.structs.replace(kept, sync=sync), sealed)
