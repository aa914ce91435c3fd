"""Customer tags recorded in plain text before ADR 0021, sealed where they are stored.

Events and snapshots are otherwise never changed. This rewrite keeps each event's
meaning (the same tags, now ``Encrypted`` under the customer's key, as new events
hold them) so that forgetting the key erases them too. A customer already erased has
no key: their plain tags are dropped, as the erasure would have. Snapshots holding
plain tags are deleted (they are caches, rebuilt from the events on the next load).
Run once after the upgrade (``commerce customers seal-tags``); a second run finds
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
from uuid import UUID

import asyncpg
import msgspec

from commerce_core.shared.pii import Encrypted

SealTag = Callable[[UUID, str], Awaitable[Encrypted | None]]
"""Seals a customer's tag under their key; None once they were erased."""

CUSTOMER_TOPIC = "commerce_core.customers.customer:Customer"
_HAS_PLAIN_TAGS = "jsonb_path_exists(data, '$.tags[*] ? (@.type() == \"string\")')"


class SealedTags(NamedTuple):
    events: int  # events rewritten
    dropped: int  # plain tags of erased customers, dropped
    snapshots: int  # snapshots deleted


class PlainTagSealer:
    def __init__(self, pool: asyncpg.Pool, seal_tag: SealTag) -> None:
        self._pool = pool
        self._seal_tag = seal_tag

    async def seal_plain_tags(self) -> SealedTags:
        rows = await self._pool.fetch(
            "SELECT global_position, stream_id, data->'tags' AS tags FROM events"
            f" WHERE starts_with(type, $1) AND {_HAS_PLAIN_TAGS}",
            CUSTOMER_TOPIC,
        )
        dropped = 0
        for row in rows:
            tags, lost = await self._sealed(row["stream_id"], json.loads(row["tags"]))
            dropped += lost
            await self._pool.execute(
                "UPDATE events SET data = jsonb_set(data, '{tags}', $2::jsonb)"
                " WHERE global_position = $1",
                row["global_position"],
                json.dumps(tags),
            )
        deleted = await self._pool.execute(
            f"DELETE FROM snapshots WHERE starts_with(type, $1) AND {_HAS_PLAIN_TAGS}",
            CUSTOMER_TOPIC,
        )
        return SealedTags(len(rows), dropped, int(deleted.rsplit(" ", 1)[-1]))

    async def _sealed(self, customer_id: UUID, tags: list[Any]) -> tuple[list[Any], int]:
        sealed: list[Any] = []
        for tag in tags:
            if not isinstance(tag, str):
                sealed.append(tag)
                continue
            value = await self._seal_tag(customer_id, tag)
            if value is not None:  # else erased: the tag goes with the rest of their data
                sealed.append(msgspec.to_builtins(value))
        return sealed, len(tags) - len(sealed)
