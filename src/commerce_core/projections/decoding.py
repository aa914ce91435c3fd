"""Decodes an event once for every projection of a runner, with only the fields they read."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from commerce_core.eventstore import EventMapper, RecordedEvent
from commerce_core.projections.projection import Projection

Reader = Callable[[RecordedEvent], object]


class FieldsDecoder:
    """Per event type, the union of the fields its projections read (ADR 0048).

    A type some projection reads in full (``reads`` None) is decoded in full.
    """

    def __init__(self, mapper: EventMapper, projections: Sequence[Projection]) -> None:
        self._mapper = mapper
        self._projections = [p for p in projections if p.decodes]
        self._readers: dict[str, Reader] = {}

    def __call__(self, event: RecordedEvent) -> object:
        reader = self._readers.get(event.type)
        if reader is None:
            reader = self._readers[event.type] = self._reader(event.type)
        return reader(event)

    def _reader(self, event_type: str) -> Reader:
        names = self.fields_of(event_type)
        if names is None:
            return self._mapper.from_recorded
        return self._mapper.fields_reader(event_type, names)

    def fields_of(self, event_type: str) -> frozenset[str] | None:
        """The fields to decode of this type of event (None: all)."""
        names: set[str] = set()
        for projection in self._projections:
            if projection.wants(event_type):
                if projection.reads is None:
                    return None
                names |= projection.reads
        return frozenset(names)
