"""An event store that counts its reads and appends, as the database would see them."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from commerce_core.eventstore import AppendStream, EventMetadata, RecordedEvent, StreamLoad
from tests.unit.shop import TestEventStore


class CountingStore(TestEventStore):
    """Counts each ``load_stream`` / ``load_streams`` call and each append: one database
    round trip each in the PostgreSQL store."""

    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []
        self._inside_many = False

    async def load_stream(self, stream_id: UUID, to_version: int | None = None) -> StreamLoad:
        if not self._inside_many:  # the memory store's load_streams calls this per stream
            self.calls.append("load_stream")
        return await super().load_stream(stream_id, to_version)

    async def load_streams(self, stream_ids: Sequence[UUID]) -> dict[UUID, StreamLoad]:
        self.calls.append("load_streams")
        self._inside_many = True
        try:
            return await super().load_streams(stream_ids)
        finally:
            self._inside_many = False

    async def append(
        self, streams: Sequence[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        self.calls.append("append")
        return await super().append(streams, metadata)
