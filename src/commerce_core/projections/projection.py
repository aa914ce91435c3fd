"""The projection: a pure, versioned function from events to read-model changes."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

from eventsourcing.utils import get_topic

from commerce_core.eventstore import RecordedEvent
from commerce_core.projections.changes import Change
from commerce_core.projections.tables import TableSpec, check_identifier


class Projection(abc.ABC):
    """Turns events into changes of its tables; it never reads or writes storage itself.

    Subclasses set ``name`` (stable, e.g. ``"order_list"``), ``version`` (bump it
    whenever ``tables`` or the meaning of ``handle`` changes: the new version is
    built from the first event into new tables beside the old ones) and
    ``tables``. The runner calls ``wants`` with each event's type (its topic,
    e.g. ``"commerce_core.ordering.order:Order.Placed"``) and, only when it is
    true, decodes the event (unless ``decodes`` is false) and calls ``handle``.
    ``handle`` must be deterministic: the same event gives the same changes.
    """

    name: str
    version: int
    tables: Sequence[TableSpec]
    decodes: bool = True
    reads: frozenset[str] | None = None
    """The event fields ``handle`` reads, of any type it wants; None: every field.

    Only these are decoded (ADR 0048), so a field read but not named here is
    missing from ``decoded``; a test per projection compares with a full decode.
    """

    def wants(self, event_type: str) -> bool:
        """Whether ``handle`` needs this type of event; keep it cheap (a set lookup)."""
        return True

    @abc.abstractmethod
    def handle(self, event: RecordedEvent, decoded: object | None) -> list[Change]:
        """The changes this event makes; ``decoded`` is the domain event (or None)."""

    @property
    def key(self) -> str:
        """Identifies this version of the projection, e.g. ``"order_list:v2"``."""
        return f"{self.name}:v{self.version}"

    def table_specs(self) -> Mapping[str, TableSpec]:
        """The tables by logical name."""
        return {spec.name: spec for spec in self.tables}


def check_projection(projection: Projection) -> None:
    """Raises ``ValueError`` if the projection's name, version or tables are unusable."""
    check_identifier(projection.name, "projection")
    if not isinstance(projection.version, int) or projection.version < 1:
        raise ValueError(f"projection {projection.name}: version must be a positive int")
    names = [spec.name for spec in projection.tables]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"projection {projection.name}: needs tables with distinct names")


def topics(*event_classes: type) -> frozenset[str]:
    """The event types (topics) of these domain event classes, for a cheap ``wants``."""
    return frozenset(get_topic(cls) for cls in event_classes)


def stream_type(event_type: str) -> str:
    """The aggregate class of an event type: ``"pkg.order:Order.Placed"`` -> ``"Order"``."""
    qualname = event_type.rpartition(":")[2]
    return qualname.rpartition(".")[0] or qualname


def event_name(event_type: str) -> str:
    """The event class of an event type: ``"pkg.order:Order.Placed"`` -> ``"Placed"``."""
    return event_type.rpartition(".")[2].rpartition(":")[2]
