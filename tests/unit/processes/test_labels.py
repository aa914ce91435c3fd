"""Labels: one per intent, voids, unknown outcomes of a carrier without idempotency keys,
documents sealed under the customer's key (ADR 0030)."""

from __future__ import annotations

import dataclasses

import pytest

from adapters.memory.carrier import FakeCarrier, OneCarrier
from commerce_core.fulfilment.ports import Parcel, UnsupportedServiceError
from commerce_core.fulfilment.shipment import (
    LabelInProgressError,
    LabelOutcomeUnknownError,
    LabelStatus,
    NoLabelError,
    Shipment,
)
from commerce_core.processes.labels import (
    BuyLabel,
    LabelErasedError,
    UnknownRateError,
    buy_label,
    buy_shipment_label,
    label_document,
    void_shipment_label,
)
from commerce_core.processes.shipping import CreateShipment, create_shipment
from commerce_core.processes.shipping_services import ShippingServices
from commerce_core.shared.values import Address
from tests.unit.shop import HOME, STAFF, TENANT, Shop

WAREHOUSE = Address(
    name="Mugs", line1="9 Dock Rd", city="Austin", postal_code="78701", country="US"
)


class NoKeysCarrier(FakeCarrier):
    """A carrier like UPS: it takes no idempotency key, so a retry would buy again."""

    @property
    def deduplicates(self) -> bool:
        return False


@pytest.fixture
async def shop() -> Shop:
    shop = Shop()
    await shop.product("MUG-1", stock=5)
    return shop


def services(shop: Shop, carrier: FakeCarrier | None = None) -> ShippingServices:
    carriers = OneCarrier(carrier or shop.carrier, ship_from=WAREHOUSE)
    return dataclasses.replace(shop.shipping_services, carriers=carriers)


async def shipment_of(shop: Shop) -> Shipment:
    order = await shop.place(("MUG-1", 2), shipping_address=HOME)
    await shop.charge(order.id)
    return await create_shipment(
        shop.shipping_services, STAFF, order.id, CreateShipment(carrier="fake")
    )


async def test_the_cheapest_service_is_bought_when_none_is_named(shop: Shop) -> None:
    shipment = await shipment_of(shop)

    bought = await buy_shipment_label(services(shop), STAFF, shipment.id, BuyLabel())

    [(reference, label)] = shop.carrier.labels
    assert (reference, bought.service, bought.label_status) == (
        str(shipment.id),
        "standard",
        LabelStatus.BOUGHT,
    )
    assert (bought.tracking_number, bought.rate, bought.label_id) == (
        label.tracking_number,
        label.cost,
        label.label_id,
    )


async def test_a_second_request_gets_the_first_label(shop: Shop) -> None:
    shipment = await shipment_of(shop)
    first = await buy_shipment_label(services(shop), STAFF, shipment.id, BuyLabel())

    again = await buy_shipment_label(
        services(shop), STAFF, shipment.id, BuyLabel(service="express")
    )

    assert again.tracking_number == first.tracking_number
    assert len(shop.carrier.labels) == 1


async def test_a_label_being_bought_refuses_another_request(shop: Shop) -> None:
    shipment = await shipment_of(shop)
    held = await shop.repo.get(shipment.id, kind=Shipment)
    held.request_label("standard", WAREHOUSE, Parcel(weight_grams=500), shop.clock.now(), "fake")
    await shop.repo.save(held, metadata=STAFF.metadata())

    with pytest.raises(LabelInProgressError):
        await buy_shipment_label(services(shop), STAFF, shipment.id, BuyLabel())
    assert shop.carrier.labels == []


async def test_an_unknown_rate_id_is_refused_before_anything_is_recorded(shop: Shop) -> None:
    shipment = await shipment_of(shop)
    before = await shop.events()

    with pytest.raises(UnknownRateError):
        await buy_shipment_label(services(shop), STAFF, shipment.id, BuyLabel(rate_id="r-9"))

    assert await shop.events() == before


async def test_a_refused_service_closes_the_intent_and_buys_nothing(shop: Shop) -> None:
    shipment = await shipment_of(shop)

    with pytest.raises(UnsupportedServiceError):
        await buy_shipment_label(services(shop), STAFF, shipment.id, BuyLabel(service="teleport"))

    refused = await shop.repo.get(shipment.id, kind=Shipment)
    assert (refused.label_status, refused.open_effects, shop.carrier.labels) == (
        LabelStatus.NONE,
        [],
        [],
    )


async def test_recovery_never_asks_a_carrier_without_keys_again_it_flags_the_label(
    shop: Shop,
) -> None:
    carrier = NoKeysCarrier()
    shipment = await shipment_of(shop)
    held = await shop.repo.get(shipment.id, kind=Shipment)
    held.request_label("standard", WAREHOUSE, Parcel(weight_grams=500), shop.clock.now(), "ups")
    await shop.repo.save(
        held, metadata=STAFF.metadata()
    )  # then the process died: did UPS sell it? nobody knows

    unknown = await buy_label(services(shop, carrier), STAFF, shipment.id)

    assert (unknown.label_status, unknown.open_effects, carrier.labels) == (
        LabelStatus.UNKNOWN,
        [],
        [],
    )
    with pytest.raises(LabelOutcomeUnknownError):
        await buy_shipment_label(services(shop, carrier), STAFF, shipment.id, BuyLabel())
    bought = await buy_shipment_label(
        services(shop, carrier), STAFF, shipment.id, BuyLabel(after_unknown=True)
    )
    assert bought.label_status is LabelStatus.BOUGHT
    assert len(carrier.labels) == 1


async def test_a_voided_label_lets_another_be_bought_under_a_new_key(shop: Shop) -> None:
    shipment = await shipment_of(shop)
    first = await buy_shipment_label(services(shop), STAFF, shipment.id, BuyLabel())

    voided = await void_shipment_label(services(shop), STAFF, shipment.id)
    second = await buy_shipment_label(services(shop), STAFF, shipment.id, BuyLabel())

    assert voided.voided_labels == [first.tracking_number]
    assert first.tracking_number in shop.carrier.voided
    assert second.tracking_number != first.tracking_number
    assert second.label_key == f"{shipment.id}:label:2"


async def test_the_label_document_is_sealed_under_the_customers_key(shop: Shop) -> None:
    shipment = await shipment_of(shop)
    bought = await buy_shipment_label(services(shop), STAFF, shipment.id, BuyLabel())
    [(_, label)] = shop.carrier.labels
    [stored] = shop.labels.rows.values()

    document = await label_document(services(shop), TENANT, shipment.id)

    assert document.content == label.document.content
    assert label.document.content not in stored.content
    order = await shop.order(bought.order_id)
    assert order.shipping_address is not None
    await shop.keyring.forget(order.shipping_address.key_id)
    with pytest.raises(LabelErasedError):
        await label_document(services(shop), TENANT, shipment.id)


async def test_a_shipment_without_a_label_has_no_document_and_nothing_to_void(
    shop: Shop,
) -> None:
    shipment = await shipment_of(shop)

    with pytest.raises(NoLabelError):
        await label_document(services(shop), TENANT, shipment.id)
    with pytest.raises(NoLabelError):
        await void_shipment_label(services(shop), STAFF, shipment.id)
