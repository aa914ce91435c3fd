"""Replay for investigations: an order's (or payment's) timeline and its state as of a moment.

An order's timeline holds its own events, its ledger's, and the events of its
payments (refunds are payment events), its shipments and the stock reservations
made for it (the events of its SKUs' stock items that name the order), merged
in the global order. ``AsOf`` cuts the timeline and picks the state: a version
of the aggregate (the timeline then ends with the append that recorded it) or
an instant (events recorded at or before it, and the last version recorded by
then).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from commerce_core.eventstore import (
    AggregateNotFoundError,
    EventMapper,
    RecordedEvent,
    Repository,
)
from commerce_core.inventory.locations import SkuLocations
from commerce_core.inventory.stock import StockItem
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.ordering.order import Order
from commerce_core.payments.payment import Payment
from commerce_core.projections.projection import event_name, stream_type
from commerce_core.shared.errors import InvalidValueError

_VERSION = re.compile(r"[0-9]{1,18}")

A = TypeVar("A", bound=Aggregate)


class AsOf(msgspec.Struct, frozen=True, kw_only=True):
    """A moment in an aggregate's life: its ``version``, or an instant ``at``."""

    version: int | None = None
    at: datetime | None = None

    def __post_init__(self) -> None:
        if (self.version is None) == (self.at is None):
            raise InvalidValueError("as of takes either a version or a timestamp")
        if self.version is not None and self.version < 1:
            raise InvalidValueError("a version is a positive integer")
        if self.at is not None and self.at.utcoffset() is None:
            raise InvalidValueError("a timestamp needs a time zone (RFC 3339, e.g. ...Z)")

    @classmethod
    def parse(cls, text: str) -> AsOf:
        """``"7"`` is version 7; anything else must be an RFC 3339 timestamp."""
        text = text.strip()
        if text.isdigit():
            # ``isdigit`` also takes "³" and other digits ``int`` refuses, and any length
            if not _VERSION.fullmatch(text):
                raise InvalidValueError(f"{text!r} is not a version (1 to 18 digits, 0-9)")
            return cls(version=int(text))
        try:
            at = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidValueError(f"{text!r} is neither a version nor a timestamp") from None
        return cls(at=at)


class TimelineEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One event as an investigator reads it: what, where, when, who, and its payload."""

    type: str
    stream: UUID
    stream_type: str
    version: int
    position: int
    event_id: UUID
    at: datetime
    data: dict[str, Any]
    metadata: dict[str, str | None]

    @classmethod
    def of(cls, recorded: RecordedEvent) -> TimelineEvent:
        return cls(
            type=f"{stream_type(recorded.type)}.{event_name(recorded.type)}",
            stream=recorded.stream_id,
            stream_type=stream_type(recorded.type),
            version=recorded.version,
            position=recorded.position.global_position,
            event_id=recorded.event_id,
            at=recorded.recorded_at,
            data=without_sealed(msgspec.json.decode(recorded.data)),
            metadata=msgspec.structs.asdict(recorded.metadata),
        )


GIVEN = "given"
"""What a timeline shows in place of personal data: that it was given, not what it was."""

_SEALED_FIELDS = frozenset({"key_id", "ciphertext"})


def without_sealed(value: Any) -> Any:
    """``value`` with each sealed value (``Encrypted``: an address, ...) replaced by
    ``GIVEN``: an investigator learns that an address was given, not where, and the
    timeline reads the same before and after the customer's erasure."""
    if isinstance(value, dict):
        if value.keys() == _SEALED_FIELDS:
            return GIVEN
        return {k: without_sealed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_sealed(v) for v in value]
    return value


@dataclass(frozen=True)
class Timeline(Generic[A]):
    """Events in the global order and the aggregate as of the moment asked (None: it did
    not exist yet)."""

    aggregate_id: UUID
    events: list[TimelineEvent]
    state: A | None


async def order_timeline(
    repo: Repository, order_id: UUID, *, tenant_id: str | None = None, as_of: AsOf | None = None
) -> Timeline[Order]:
    """The order's timeline with everything related to it; ``tenant_id`` (if given) must
    own the order, else ``AggregateNotFoundError``."""
    own = await _own_stream(repo, order_id, Order, tenant_id)
    tenant = own[0].metadata.tenant_id
    order = await repo.get(order_id, kind=Order)
    ledger = await _optional(repo, OrderLedger.id_for(order_id), OrderLedger)
    payment_ids = list(dict.fromkeys([*order.payment_ids, *(ledger.payment_ids if ledger else [])]))
    related: list[RecordedEvent] = list(own)
    for stream_id in [
        OrderLedger.id_for(order_id),
        *payment_ids,
        *order.shipment_ids,
    ]:
        related += await repo.store.read_stream(stream_id)
    for stream_id in await _stock_item_ids(repo, tenant, order):
        related += [e for e in await repo.store.read_stream(stream_id) if _names_order(e, order_id)]
    events = [e for e in related if e.metadata.tenant_id == tenant]
    return await _timeline(repo, order_id, Order, own, events, as_of)


async def payment_timeline(
    repo: Repository,
    payment_id: UUID,
    *,
    tenant_id: str | None = None,
    as_of: AsOf | None = None,
) -> Timeline[Payment]:
    """A payment's own timeline (captures, refunds, disputes) and its state as of a moment."""
    own = await _own_stream(repo, payment_id, Payment, tenant_id)
    return await _timeline(repo, payment_id, Payment, own, own, as_of)


async def _own_stream(
    repo: Repository, stream_id: UUID, kind: type[Aggregate], tenant_id: str | None
) -> list[RecordedEvent]:
    own = await repo.store.read_stream(stream_id)
    if (
        not own
        or stream_type(own[0].type) != kind.__name__
        or (tenant_id is not None and own[0].metadata.tenant_id != tenant_id)
    ):
        raise AggregateNotFoundError(stream_id, kind)
    return own


async def _timeline(
    repo: Repository,
    aggregate_id: UUID,
    kind: type[A],
    own: Sequence[RecordedEvent],
    events: Iterable[RecordedEvent],
    as_of: AsOf | None,
) -> Timeline[A]:
    ordered = sorted({e.event_id: e for e in events}.values(), key=lambda e: e.position)
    version = own[-1].version
    if as_of is not None and as_of.version is not None:
        if as_of.version > version:
            raise InvalidValueError(f"{kind.__name__} {aggregate_id} has {version} versions")
        version = as_of.version
        last_tx = own[version - 1].position.tx_id
        ordered = [e for e in ordered if e.position.tx_id <= last_tx]
    elif as_of is not None and as_of.at is not None:
        at = as_of.at
        version = max((e.version for e in own if e.recorded_at <= at), default=0)
        ordered = [e for e in ordered if e.recorded_at <= at]
    state = await repo.get(aggregate_id, version=version, kind=kind) if version else None
    return Timeline(aggregate_id, [TimelineEvent.of(e) for e in ordered], state)


async def _optional(repo: Repository, stream_id: UUID, kind: type[A]) -> A | None:
    try:
        return await repo.get(stream_id, kind=kind)
    except AggregateNotFoundError:
        return None


async def _stock_item_ids(repo: Repository, tenant_id: str, order: Order) -> list[UUID]:
    ids: list[UUID] = []
    for sku in dict.fromkeys(line.sku for line in order.lines):
        locations = await _optional(repo, SkuLocations.id_for(tenant_id, sku), SkuLocations)
        for location in locations.locations if locations else []:
            ids.append(StockItem.id_for(tenant_id, sku, location))
    return ids


def _names_order(event: RecordedEvent, order_id: UUID) -> bool:
    payload = msgspec.json.decode(event.data)
    return isinstance(payload, dict) and payload.get("order_id") == str(order_id)


def state_of(aggregate: Aggregate) -> dict[str, Any]:
    """The aggregate's attributes as JSON values, with its id and version."""
    state: dict[str, Any] = msgspec.json.decode(EventMapper().to_snapshot(aggregate).data)
    # the library's own bookkeeping times; business times are attributes of their own
    state.pop("_created_on", None)
    state.pop("_modified_on", None)
    return {"id": str(aggregate.id), "version": aggregate.version, **state}
