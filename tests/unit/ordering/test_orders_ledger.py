"""The order ledger and payment references: their rules, and that they persist."""

from __future__ import annotations

import uuid

from adapters.memory.eventstore import MemoryEventStore
from commerce_core.eventstore import Repository
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.payments.reference import PaymentReference
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.values import Sku, SkuQuantity
from tests.unit.gwt import given
from tests.unit.shop import STAFF

ORDER = uuid.UUID("00000000-0000-0000-0000-00000000000a")
PAYMENT = uuid.UUID("00000000-0000-0000-0000-0000000000b1")
MUG = Sku("MUG-1")


def units(quantity: int) -> list[SkuQuantity]:
    return [SkuQuantity(MUG, quantity)]


def test_units_taken_can_be_put_back_but_never_more_than_were_taken() -> None:
    spec = given(OrderLedger.start("t1", ORDER), lambda ledger: ledger.record_taken(units(2)))

    spec.when(lambda ledger: ledger.record_restocked(units(1))).then("StockRestocked")
    spec.when(lambda ledger: ledger.record_restocked(units(2))).then_error(InvalidValueError)
    assert spec.aggregate.restockable() == units(1)
    assert vars(spec.rebuilt()) == vars(spec.aggregate)


def test_a_payment_is_listed_once() -> None:
    spec = given(OrderLedger.start("t1", ORDER), lambda ledger: ledger.add_payment(PAYMENT))

    spec.when(lambda ledger: ledger.add_payment(PAYMENT)).then()
    assert spec.aggregate.payment_ids == [PAYMENT]


def test_a_gateway_refund_id_is_linked_to_our_refund() -> None:
    refund = uuid.uuid4()
    spec = given(OrderLedger.start("t1", ORDER))

    spec.when(lambda ledger: ledger.link_refund("re_1", refund)).then("RefundLinked")
    spec.when(lambda ledger: ledger.link_refund("re_1", refund)).then()
    assert spec.rebuilt().refund_for("re_1") == refund


async def test_ledger_and_reference_load_from_events_and_from_snapshots() -> None:
    repo = Repository(MemoryEventStore(), snapshot_every=2)
    ledger = OrderLedger.start("t1", ORDER)
    ledger.add_payment(PAYMENT)
    ledger.record_taken(units(3))
    reference = PaymentReference.link("t1", "stripe", "pi_1", PAYMENT)
    await repo.save(ledger, reference, metadata=STAFF.metadata())

    loaded = await repo.get(ledger.id, kind=OrderLedger)
    found = await repo.get(PaymentReference.id_for("t1", "stripe", "pi_1"), kind=PaymentReference)

    assert await repo.store.load_snapshot(ledger.id) is not None
    assert (loaded.payment_ids, loaded.taken) == ([PAYMENT], {"MUG-1": 3})
    assert found.payment_id == PAYMENT
    assert PaymentReference.id_for("t2", "stripe", "pi_1") != found.id  # tenants apart
