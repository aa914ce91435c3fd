"""Payments stored before marketplace payments (no seller fields) still load, as payments for
no seller, from their events and from their snapshots."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from eventsourcing.persistence import StoredEvent

from commerce_core.eventstore import EventMapper
from commerce_core.eventstore.records import SnapshotRecord
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import Payment
from commerce_core.shared.money import Money

AT = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
NEW_FIELDS = ("seller_id", "destination_account", "class_version")


def a_payment(seller: tuple[str, str] | None = None) -> Payment:
    fees = FeeSchedule(basis_points=300)
    return Payment.create(
        uuid.uuid4(), "tenant-1", uuid.uuid4(), Money(2000, "USD"), fees, AT, seller=seller
    )


def without_new_fields(data: bytes) -> bytes:
    state: dict[str, Any] = msgspec.json.decode(data)
    return msgspec.json.encode({k: v for k, v in state.items() if k not in NEW_FIELDS})


def created_event(payment: Payment, mapper: EventMapper) -> StoredEvent:
    [created] = payment.collect_events()
    return mapper.to_stored_event(created)


def test_a_payment_created_before_sellers_existed_loads_as_one_for_no_seller() -> None:
    mapper = EventMapper()
    stored = created_event(a_payment(), mapper)
    old = StoredEvent(
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        without_new_fields(stored.state),
    )

    payment = mapper.to_domain_event(old).mutate(None)  # type: ignore[attr-defined]

    assert isinstance(payment, Payment)
    assert (payment.seller_id, payment.destination_account) == (None, None)
    assert payment.amount == Money(2000, "USD")


def test_a_seller_s_payment_keeps_its_seller_through_the_store() -> None:
    mapper = EventMapper()
    stored = created_event(a_payment(("seller-1", "acct_1")), mapper)

    payment = mapper.to_domain_event(stored).mutate(None)  # type: ignore[attr-defined]

    assert msgspec.json.decode(stored.state)["class_version"] == 2
    assert (payment.seller_id, payment.destination_account) == ("seller-1", "acct_1")


def test_a_snapshot_taken_before_sellers_existed_loads_as_a_payment_for_no_seller() -> None:
    mapper = EventMapper()
    payment = a_payment()
    payment.authorize("pi_1", AT)
    snapshot = mapper.to_snapshot(payment)
    old = SnapshotRecord(
        snapshot.stream_id, snapshot.version, snapshot.type, without_new_fields(snapshot.data)
    )

    loaded = mapper.from_snapshot(old)

    assert isinstance(loaded, Payment)
    assert (loaded.seller_id, loaded.destination_account) == (None, None)
    assert (loaded.status, loaded.gateway_payment_id) == ("authorized", "pi_1")
