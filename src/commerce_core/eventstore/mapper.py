"""Converts aggregate events and snapshots to and from stored JSON.

It is ``eventsourcing``'s ``Mapper`` with a msgspec JSON transcoder, and one
change: decoding is typed. The library's JSON transcoder tags every
non-JSON value (``{"_type_": "uuid_hex", ...}``), which makes payloads hard to
read in ``psql`` and slow to decode. Here payloads are plain JSON and each
event class's own annotations say how to turn the JSON back into values
(datetimes, UUIDs, value objects), through a msgspec struct built once per
class. Older payloads are upcast with the library's ``upcast_vN_vN+1``
convention before they are typed; a field typed ``X | None`` that an older
payload lacks decodes as ``None`` (adding an optional field needs no upcaster).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, cast
from uuid import UUID, uuid4

import msgspec
from eventsourcing.domain import Aggregate, DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from commerce_core.eventstore.records import NewEvent, RecordedEvent, SnapshotRecord

_ENVELOPE_FIELDS = ("originator_id", "originator_version")
_AGGREGATE_PRIVATE = ("_id", "_version", "_pending_events")


def _encode_extra(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Enum):
        return obj.value
    raise NotImplementedError(f"cannot encode {type(obj).__name__} as JSON")


class MsgspecTranscoder(Transcoder):
    """JSON with msgspec: dataclasses, structs, datetimes, UUIDs, enums as plain JSON."""

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder(enc_hook=_encode_extra, decimal_format="string")

    def encode(self, obj: Any) -> bytes:
        return self._encoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        return msgspec.json.decode(data)


def _struct_field(field: dataclasses.Field[Any], hint: Any) -> tuple[Any, ...]:
    if field.default is not dataclasses.MISSING:
        return (field.name, hint, field.default)
    if field.default_factory is not dataclasses.MISSING:
        return (field.name, hint, msgspec.field(default_factory=field.default_factory))
    if _admits_none(hint):
        # An optional field added to an event later: payloads recorded before it lack it.
        return (field.name, hint, None)
    return (field.name, hint)


def _admits_none(hint: Any) -> bool:
    return hint is not Any and type(None) in typing.get_args(hint)


def _hints(cls: type[Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):
        return {}


def _state_struct(cls: type[Any]) -> type[msgspec.Struct]:
    """A struct with the event's own fields (not the envelope) and their types."""
    hints = _hints(cls)
    fields = [
        _struct_field(f, hints.get(f.name, Any))
        for f in dataclasses.fields(cls)
        if f.name not in _ENVELOPE_FIELDS
    ]
    fields.append(("class_version", int, 1))
    return msgspec.defstruct(f"{cls.__name__}State", fields, kw_only=True)


def _upcast(cls: type[Any], state: dict[str, Any], from_version: int) -> None:
    to_version = getattr(cls, "class_version", 1)
    while from_version < to_version:
        getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
        from_version += 1


class EventMapper(Mapper[UUID]):
    """Maps domain events to ``NewEvent`` records and recorded events back."""

    def __init__(self, event_id_factory: Callable[[], UUID] = uuid4) -> None:
        super().__init__(transcoder=MsgspecTranscoder())
        self._new_event_id = event_id_factory
        self._structs: dict[type[Any], tuple[type[msgspec.Struct], msgspec.json.Decoder[Any]]] = {}
        self._narrow: dict[tuple[type[Any], frozenset[str]], msgspec.json.Decoder[Any]] = {}

    def _decoder(self, cls: type[Any]) -> tuple[type[msgspec.Struct], msgspec.json.Decoder[Any]]:
        cached = self._structs.get(cls)
        if cached is None:
            struct = _state_struct(cls)
            cached = (struct, msgspec.json.Decoder(struct))
            self._structs[cls] = cached
        return cached

    def to_new_event(
        self, domain_event: DomainEventProtocol[UUID], event_id: UUID | None = None
    ) -> NewEvent:
        stored = self.to_stored_event(domain_event)
        return NewEvent(event_id or self._new_event_id(), stored.topic, stored.state)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        struct, decoder = self._decoder(cls)
        class_version = getattr(cls, "class_version", 1)
        state: dict[str, Any]
        try:
            typed = decoder.decode(stored_event.state)
        except msgspec.ValidationError:
            typed = None
        if typed is not None and typed.class_version == class_version:
            state = msgspec.structs.asdict(typed)
        else:
            raw: dict[str, Any] = msgspec.json.decode(stored_event.state)
            _upcast(cls, raw, raw.pop("class_version", 1))
            state = msgspec.structs.asdict(msgspec.convert(raw, struct))
        del state["class_version"]
        originator_id = stored_event.originator_id
        state["originator_id"] = (
            originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        )
        state["originator_version"] = stored_event.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return cast(DomainEventProtocol[UUID], domain_event)

    def from_recorded(self, recorded: RecordedEvent) -> DomainEventProtocol[UUID]:
        return self.to_domain_event(
            StoredEvent(recorded.stream_id, recorded.version, recorded.type, recorded.data)
        )

    def from_recorded_fields(
        self, recorded: RecordedEvent, names: frozenset[str]
    ) -> DomainEventProtocol[UUID]:
        """The event with only the fields ``names`` (and its envelope) set, for a reader.

        Skipping the rest of the JSON unbuilt costs a fraction of a full decode (a
        placed order's lines and addresses are most of its payload). A payload of
        an older class version, or one the narrow struct refuses, is decoded in
        full, upcast on the way, so it reads the same (or fails the same) as ever.
        """
        return self.fields_reader(recorded.type, names)(recorded)

    def fields_reader(
        self, event_type: str, names: frozenset[str]
    ) -> Callable[[RecordedEvent], DomainEventProtocol[UUID]]:
        """``from_recorded_fields`` for events of one type, with the type's look-ups done
        once (a projection's batch decodes thousands of events of a few types)."""
        cls = resolve_topic(event_type)
        decoder = self._narrow_decoder(cls, names)
        class_version = getattr(cls, "class_version", 1)
        asdict, from_recorded = msgspec.structs.asdict, self.from_recorded

        def read(recorded: RecordedEvent) -> DomainEventProtocol[UUID]:
            try:
                typed = decoder.decode(recorded.data)
            except msgspec.ValidationError:
                return from_recorded(recorded)
            if typed.class_version != class_version:
                return from_recorded(recorded)
            state = asdict(typed)
            del state["class_version"]
            state["originator_id"] = recorded.stream_id
            state["originator_version"] = recorded.version
            domain_event = object.__new__(cls)
            object.__setattr__(domain_event, "__dict__", state)
            return cast(DomainEventProtocol[UUID], domain_event)

        return read

    def _narrow_decoder(self, cls: type[Any], names: frozenset[str]) -> msgspec.json.Decoder[Any]:
        decoder = self._narrow.get((cls, names))
        if decoder is None:
            hints = _hints(cls)
            fields = [
                _struct_field(f, hints.get(f.name, Any))
                for f in dataclasses.fields(cls)
                if f.name in names and f.name not in _ENVELOPE_FIELDS
            ]
            fields.append(("class_version", int, 1))
            struct = msgspec.defstruct(f"{cls.__name__}Fields", fields, kw_only=True)
            decoder = self._narrow[(cls, names)] = msgspec.json.Decoder(struct)
        return decoder

    def to_snapshot(self, aggregate: Aggregate) -> SnapshotRecord:
        state = {k: v for k, v in vars(aggregate).items() if k not in _AGGREGATE_PRIVATE}
        class_version = getattr(type(aggregate), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return SnapshotRecord(
            aggregate.id,
            aggregate.version,
            get_topic(type(aggregate)),
            self.transcoder.encode(state),
        )

    def from_snapshot(self, snapshot: SnapshotRecord) -> Aggregate:
        """Rebuilds an aggregate; attributes annotated on its class get their types back."""
        cls = resolve_topic(snapshot.type)
        state: dict[str, Any] = msgspec.json.decode(snapshot.data)
        _upcast(cls, state, state.pop("class_version", 1))
        hints = _hints(cls)
        hints.update(_created_on=datetime, _modified_on=datetime)
        for name, value in state.items():
            hint = hints.get(name)
            if hint is not None and hint is not Any:
                state[name] = msgspec.convert(value, type=hint, strict=False)
        state["_id"] = snapshot.stream_id
        state["_version"] = snapshot.version
        state["_pending_events"] = []
        aggregate = object.__new__(cls)
        object.__setattr__(aggregate, "__dict__", state)
        return cast(Aggregate, aggregate)
