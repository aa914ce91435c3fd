"""A shipment's labels: one at a time, each intent under its own key, voids and unknown
outcomes (ADR 0030)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commerce_core.fulfilment.ports import (
    Label,
    LabelDocument,
    LabelFormat,
    LabelNotVoidableError,
    Parcel,
)
from commerce_core.fulfilment.shipment import (
    UNKNOWN_OUTCOME,
    LabelInProgressError,
    LabelStatus,
    NoLabelError,
    Shipment,
    ShipmentStatus,
)
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address, Sku, SkuQuantity

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
HOME = Address(name="Mugs", line1="9 Dock Rd", city="Austin", postal_code="78701", country="US")
PARCEL = Parcel(weight_grams=800)


def shipment() -> Shipment:
    return Shipment.create(
        id=uuid.uuid4(),
        tenant_id="tenant-1",
        order_id=uuid.uuid4(),
        lines=[SkuQuantity(Sku("MUG-1"), 2)],
        carrier="fake",
        at=T0,
    )


def label(number: int) -> Label:
    return Label(
        carrier="fake",
        service="standard",
        tracking_number=f"FAKE{number:010d}",
        label_id=f"FAKE{number:010d}",
        cost=Money(600, "USD"),
        document=LabelDocument(format=LabelFormat.PDF, content=b"%PDF-1.4"),
    )


def test_the_first_label_key_is_the_shipments_and_the_next_ones_are_numbered() -> None:
    parcel = shipment()
    first = parcel.request_label("standard", HOME, PARCEL, T0, "fake")
    parcel.record_label(label(1), T0, first.key)
    parcel.complete(first.key, "bought", T0)
    parcel.record_void(T0)

    second = parcel.request_label("standard", HOME, PARCEL, T0, "fake")

    assert (first.key, second.key) == (f"{parcel.id}:label", f"{parcel.id}:label:2")
    assert (first.carrier, parcel.voided_labels) == ("fake", ["FAKE0000000001"])


def test_a_second_intent_is_refused_while_one_is_open() -> None:
    parcel = shipment()
    parcel.request_label("standard", HOME, PARCEL, T0)

    with pytest.raises(LabelInProgressError):
        parcel.request_label("express", HOME, PARCEL, T0)
    assert parcel.label_status is LabelStatus.PENDING


def test_a_label_on_a_moving_parcel_cannot_be_voided() -> None:
    parcel = shipment()
    effect = parcel.request_label("standard", HOME, PARCEL, T0)
    parcel.record_label(label(1), T0, effect.key)
    parcel.complete(effect.key, "bought", T0)
    parcel.record_tracking(ShipmentStatus.IN_TRANSIT, T0 + timedelta(hours=1))

    with pytest.raises(LabelNotVoidableError):
        parcel.check_voidable()


def test_without_a_label_there_is_nothing_to_void() -> None:
    with pytest.raises(NoLabelError):
        shipment().check_voidable()


ACTIONS = st.lists(st.sampled_from(["request", "buy", "refuse", "unknown", "void"]), max_size=25)


@settings(max_examples=200, deadline=None)
@given(ACTIONS)
def test_keys_are_never_reused_and_at_most_one_label_is_live(actions: list[str]) -> None:
    parcel = shipment()
    keys: list[str] = []
    bought = 0
    for action in actions:
        open_key = parcel.open_effects[0].key if parcel.open_effects else None
        if action == "request" and open_key is None and not parcel.has_label:
            after_unknown = parcel.label_status is LabelStatus.UNKNOWN
            keys.append(parcel.request_label("standard", HOME, PARCEL, T0, "", after_unknown).key)
        elif action == "buy" and open_key is not None:
            bought += 1
            parcel.record_label(label(bought), T0, open_key)
            parcel.complete(open_key, "bought", T0)
        elif action in ("refuse", "unknown") and open_key is not None:
            outcome = UNKNOWN_OUTCOME if action == "unknown" else "refused:no"
            parcel.complete(open_key, outcome, T0)
        elif action == "void" and parcel.has_label:
            parcel.record_void(T0)
        assert len(parcel.open_effects) <= 1
        assert not (parcel.has_label and parcel.open_effects)
    assert len(keys) == len(set(keys))
    assert parcel.labels_requested == len(keys)
    assert len(parcel.voided_labels) == len(set(parcel.voided_labels))
