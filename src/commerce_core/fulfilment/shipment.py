"""The Shipment aggregate: some or all of an order's lines on their way, and their tracking.

A shipment is created for lines the order still has to ship
(``Order.lines_to_ship`` checks them; the application records the shipment on
both aggregates in one append). Carrier updates move it through
``created -> in_transit -> out_for_delivery -> delivered``, with ``exception``
(delayed, damaged, address problem) possible before delivery; ``delivered`` and
``returned_to_sender`` are final. Carrier scans (webhooks, the poller) arrive late, twice
or out of order: ``record_scan`` keeps every scan once in the history and derives the
status from the whole history (ADR 0032), so the order they arrive in does not matter. The order
is delivered when it is fully shipped and ``all_delivered`` holds for its
shipments.

A label bought from a carrier is an external effect (ADR 0016): the shipment is
created with its label intent (``request_label``: service, where from, the
parcel, and the key the carrier deduplicates by), the label is bought with that
key, then recorded (``record_label``) and the intent closed (``complete``). A
retry or recovery asks again with the same key and never buys a second label.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from commerce_core.fulfilment.ports import Label, LabelNotVoidableError, Parcel
from commerce_core.shared.errors import DomainError, InvalidTransitionError, InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address, SkuQuantity, check_aware, parse_enum


class ShipmentStatus(StrEnum):
    CREATED = "created"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    OUT_FOR_DELIVERY = "out_for_delivery"
    RETURNED_TO_SENDER = "returned_to_sender"


T = ShipmentStatus

_MOVING = frozenset({T.IN_TRANSIT, T.DELIVERED, T.EXCEPTION})
_SCANNED = _MOVING | {T.OUT_FOR_DELIVERY, T.RETURNED_TO_SENDER}

FINAL = frozenset({T.DELIVERED, T.RETURNED_TO_SENDER})
"""Where a parcel's journey ends: no later scan moves it again."""

TRACKING_TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    # Carriers repeat in_transit (every scan) and exception; both are recorded.
    T.CREATED: _SCANNED,
    T.IN_TRANSIT: _SCANNED,
    T.EXCEPTION: _SCANNED,
    T.OUT_FOR_DELIVERY: _SCANNED,
    T.DELIVERED: frozenset(),
    T.RETURNED_TO_SENDER: frozenset(),
}

# at the same instant, the scan that needs attention or is further along wins
_PROGRESS = {T.CREATED: 0, T.IN_TRANSIT: 1, T.EXCEPTION: 2, T.OUT_FOR_DELIVERY: 3}

TRACKING_UPDATES = _MOVING
"""The statuses a carrier update may report (``POST /shipments/{id}/events``)."""


class TrackingEvent(msgspec.Struct, frozen=True):
    """One carrier update."""

    status: ShipmentStatus
    at: datetime
    detail: str | None = None


class LabelStatus(StrEnum):
    NONE = "none"
    PENDING = "pending"  # decided, the carrier's answer not recorded yet
    BOUGHT = "bought"
    UNKNOWN = "unknown"  # the carrier may or may not have sold it: an operator checks


UNKNOWN_OUTCOME = "unknown"
"""The outcome of a label intent nobody can finish (ADR 0030)."""


class LabelEffect(msgspec.Struct, frozen=True, kw_only=True):
    """A label the shipment decided to buy, recorded before the carrier is asked.

    ``carrier`` names the tenant's carrier connection that sells it (empty in intents
    recorded before connections existed: the shipment's carrier)."""

    key: str
    kind: str
    requested_at: datetime
    service: str
    ship_from: Address
    parcel: Parcel
    carrier: str = ""


class LabelInProgressError(DomainError):
    """A label of this shipment is being bought; its outcome comes first."""


class LabelOutcomeUnknownError(DomainError):
    """The last label's outcome is unknown: check the carrier account, void any label
    sold for this shipment, then ask again with ``after_unknown``."""


class NoLabelError(DomainError):
    """The shipment has no label bought (nothing to void or to print)."""


def _check_lines(lines: Sequence[SkuQuantity]) -> None:
    skus = [line.sku for line in lines]
    if not skus:
        raise InvalidValueError("a shipment carries at least one line")
    if len(set(skus)) != len(skus):
        raise InvalidValueError("a shipment names each SKU once")


class Shipment(Aggregate):
    """A parcel (or set of parcels) sent by one carrier for one order."""

    tenant_id: str
    order_id: UUID
    lines: list[SkuQuantity]
    carrier: str
    service: str | None
    tracking_number: str | None
    label_url: str | None
    rate: Money | None
    status: ShipmentStatus
    tracking: list[TrackingEvent]
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    effects: dict[str, LabelEffect]
    label_id: str | None
    label_format: str | None
    label_key: str | None
    labels_requested: int
    label_unknown: str | None
    voided_labels: list[str]

    class_version = 3  # 2: ``effects``; 3: label id, format, key, voids, unknown outcomes

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["effects"] = {}

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        bought = state.get("tracking_number") is not None or bool(state.get("effects"))
        state.update(
            label_id=None,
            label_format=None,
            label_key=None,
            labels_requested=1 if bought else 0,
            label_unknown=None,
            voided_labels=[],
        )

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        tenant_id: str,
        order_id: UUID,
        lines: Sequence[SkuQuantity],
        carrier: str,
        at: datetime,
        service: str | None = None,
        tracking_number: str | None = None,
        label_url: str | None = None,
        rate: Money | None = None,
    ) -> Shipment:
        """A new shipment of ``lines`` (checked against the order by ``Order.lines_to_ship``)."""
        _check_lines(lines)
        check_aware(at)
        if not carrier.strip():
            raise InvalidValueError("a shipment needs a carrier")
        if rate is not None and rate.is_negative:
            raise InvalidValueError("a shipping rate cannot be negative")
        return cls(
            id=id,
            tenant_id=tenant_id,
            order_id=order_id,
            lines=list(lines),
            carrier=carrier,
            service=service,
            tracking_number=tracking_number,
            label_url=label_url,
            rate=rate,
            at=at,
        )

    @event("Created")
    def __init__(
        self,
        id: UUID,
        tenant_id: str,
        order_id: UUID,
        lines: list[SkuQuantity],
        carrier: str,
        service: str | None,
        tracking_number: str | None,
        label_url: str | None,
        rate: Money | None,
        at: datetime,
    ) -> None:
        self.tenant_id = tenant_id
        self.order_id = order_id
        self.lines = lines
        self.carrier = carrier
        self.service = service
        self.tracking_number = tracking_number
        self.label_url = label_url
        self.rate = rate
        self.status = T.CREATED
        self.tracking = []
        self.created_at = at
        self.updated_at = at
        self.delivered_at = None
        self.effects = {}
        self.label_id = None
        self.label_format = None
        self.label_key = None
        self.labels_requested = 0
        self.label_unknown = None
        self.voided_labels = []

    @property
    def is_delivered(self) -> bool:
        return self.status is T.DELIVERED

    @property
    def open_effects(self) -> list[LabelEffect]:
        return list(self.effects.values())

    @property
    def has_label(self) -> bool:
        return self.tracking_number is not None

    @property
    def label_status(self) -> LabelStatus:
        if self.effects:
            return LabelStatus.PENDING
        if self.has_label:
            return LabelStatus.BOUGHT
        return LabelStatus.UNKNOWN if self.label_unknown else LabelStatus.NONE

    def check_can_request_label(self, after_unknown: bool = False) -> None:
        """Refuses a second label while one is being bought, one whose last outcome is
        unknown (unless ``after_unknown``), and a parcel already on its way."""
        if self.effects:
            raise LabelInProgressError(f"a label of shipment {self.id} is being bought")
        if self.label_unknown and not after_unknown:
            raise LabelOutcomeUnknownError(
                f"the carrier may have sold a label for shipment {self.id} (intent"
                f" {self.label_unknown}): void it at the carrier if so, then ask again"
                " with after_unknown"
            )
        if self.status is not T.CREATED and not self.has_label:
            raise InvalidTransitionError("shipment", self.status, "label")

    def request_label(
        self,
        service: str,
        ship_from: Address,
        parcel: Parcel,
        at: datetime,
        carrier: str = "",
        after_unknown: bool = False,
    ) -> LabelEffect:
        """Decides to buy this shipment's next label. Its key is the shipment's own and
        the label's number (``<id>:label``, then ``<id>:label:2`` after a void), never
        an aggregate version: two concurrent requests contend for one intent."""
        if self.has_label:
            raise InvalidValueError(f"shipment {self.id} has its label already")
        self.check_can_request_label(after_unknown)
        number = self.labels_requested + 1
        effect = LabelEffect(
            key=f"{self.id}:label" if number == 1 else f"{self.id}:label:{number}",
            kind="label",
            requested_at=at,
            service=service,
            ship_from=ship_from,
            parcel=parcel,
            carrier=carrier,
        )
        self._effect_requested(effect=effect, at=at)
        return effect

    def record_label(self, label: Label, at: datetime, key: str | None = None) -> None:
        """The carrier sold the label: its tracking number, id, format, link and cost;
        ``key`` is the intent's (where the label's document is kept)."""
        if self.tracking_number is None:
            self._label_purchased(
                key=key,
                carrier=label.carrier,
                service=label.service,
                tracking_number=label.tracking_number,
                label_id=label.label_id,
                label_format=str(label.document.format),
                label_url=label.url,
                rate=label.cost,
                at=at,
            )

    def complete(self, key: str, outcome: str, at: datetime) -> None:
        if key in self.effects:
            self._effect_completed(key=key, outcome=outcome, at=at)

    def check_voidable(self) -> str:
        """The label id to void; refused without a label or once the parcel moves."""
        if self.label_id is None or self.tracking_number is None:
            raise NoLabelError(f"shipment {self.id} has no label to void")
        if self.status is not T.CREATED:
            raise LabelNotVoidableError(
                f"shipment {self.id} is {self.status}: its label was used and cannot be voided"
            )
        return self.label_id

    def record_void(self, at: datetime) -> None:
        """The carrier voided the label: the shipment may buy another."""
        if self.tracking_number is not None:
            self._label_voided(at=at)

    @event("EffectRequested")
    def _effect_requested(self, effect: LabelEffect, at: datetime) -> None:
        self.effects[effect.key] = effect
        self.labels_requested += 1
        self.updated_at = at

    @event("LabelPurchased")
    def _label_purchased(
        self,
        key: str | None,
        carrier: str,
        service: str,
        tracking_number: str,
        label_id: str,
        label_format: str,
        label_url: str | None,
        rate: Money,
        at: datetime,
    ) -> None:
        self.carrier, self.service = carrier, service
        self.tracking_number, self.label_url, self.rate = tracking_number, label_url, rate
        self.label_id, self.label_format, self.label_key = label_id, label_format, key
        self.label_unknown = None
        self.updated_at = at

    @event("LabelVoided")
    def _label_voided(self, at: datetime) -> None:
        if self.tracking_number is not None:
            self.voided_labels.append(self.tracking_number)
        self.tracking_number = self.label_url = self.label_id = None
        self.label_format = self.label_key = None
        self.rate = None
        self.updated_at = at

    @event("LabelBought")  # labels bought before issue 14 (no id, format or key)
    def _label_bought(
        self,
        carrier: str,
        service: str,
        tracking_number: str,
        label_url: str | None,
        rate: Money,
        at: datetime,
    ) -> None:
        self.carrier, self.service = carrier, service
        self.tracking_number, self.label_url, self.rate = tracking_number, label_url, rate
        self.updated_at = at

    @event("EffectCompleted")
    def _effect_completed(self, key: str, outcome: str, at: datetime) -> None:
        self.effects.pop(key)
        if outcome == UNKNOWN_OUTCOME:
            self.label_unknown = key
        self.updated_at = at

    def record_tracking(
        self, status: ShipmentStatus, at: datetime, detail: str | None = None
    ) -> None:
        """Records a carrier update; nothing is recorded after ``delivered``."""
        check_aware(at)
        status = parse_enum(ShipmentStatus, status)
        if status not in TRACKING_TRANSITIONS[self.status]:
            raise InvalidTransitionError("shipment", self.status, status)
        self._tracked(status, at, detail)

    def record_scan(self, status: ShipmentStatus, at: datetime, detail: str | None = None) -> bool:
        """Records a carrier's scan once (a scan of the same status at the same time is
        the same scan) and returns whether it was new. The status becomes the one the
        whole history says (``status_of``), whatever order the scans came in."""
        check_aware(at)
        status = parse_enum(ShipmentStatus, status)
        if status not in _SCANNED:
            raise InvalidValueError(f"a carrier scan is one of {sorted(_SCANNED)}")
        if any(seen.status is status and seen.at == at for seen in self.tracking):
            return False
        becomes = status_of([*self.tracking, TrackingEvent(status, at, detail)])
        self._scanned(status=status, at=at, detail=detail, becomes=becomes)
        return True

    @event("Scanned")
    def _scanned(
        self, status: ShipmentStatus, at: datetime, detail: str | None, becomes: ShipmentStatus
    ) -> None:
        self.tracking.append(TrackingEvent(status, at, detail))
        self.updated_at = max(self.updated_at, at)
        if status is T.DELIVERED and (self.delivered_at is None or at < self.delivered_at):
            self.delivered_at = at  # the first delivery scan, whichever came in first
        self.status = becomes

    @event("Tracked")
    def _tracked(self, status: ShipmentStatus, at: datetime, detail: str | None) -> None:
        self.status = status
        self.tracking.append(TrackingEvent(status, at, detail))
        self.updated_at = at
        if status is T.DELIVERED:
            self.delivered_at = at


def status_of(history: Sequence[TrackingEvent]) -> ShipmentStatus:
    """The status a parcel's scans say, in any order: ``delivered`` once any scan says
    so (then nothing moves it: the order may be delivered already), else
    ``returned_to_sender`` once any says so, else the latest scan (at the same time,
    the furthest along), else ``created``."""
    for final in (T.DELIVERED, T.RETURNED_TO_SENDER):
        if any(scan.status is final for scan in history):
            return final
    if not history:
        return T.CREATED
    return max(history, key=lambda scan: (scan.at, _PROGRESS.get(scan.status, 0))).status


def all_delivered(shipments: Iterable[Shipment]) -> bool:
    """Whether there is at least one shipment and every one is delivered.

    The order is delivered when this holds for all its shipments and
    ``Order.is_fully_shipped`` (a delivered first parcel of a partly shipped
    order does not deliver the order).
    """
    statuses = [shipment.is_delivered for shipment in shipments]
    return bool(statuses) and all(statuses)
