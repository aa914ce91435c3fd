"""The UPS and ShipEngine adapters when their vendor refuses, fails or misbehaves.

Each vendor is a local server checking requests against its published spec; the 4xx
bodies are the vendors' documented error bodies (checked against the spec as well).
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from tests.integration.carriers import running
from tests.integration.carriers.vendor_server import Answer
from tests.integration.carriers.worlds import (
    REFUSED_POSTAL_CODE,
    malformed,
    raw_json,
)

from adapters.carriers.shipengine import ShipEngineCarrier
from adapters.carriers.ups import UpsCarrier
from adapters.memory.clock import FixedClock
from commerce_core.fulfilment.ports import (
    AddressRefusedError,
    CarrierError,
    CarrierRefusedError,
    CarrierUnavailableError,
    Parcel,
)
from commerce_core.shared.values import Address

FROM = Address(
    name="Shop",
    line1="1 Main St",
    city="Springfield",
    region="IL",
    postal_code="62701",
    country="US",
)
TO = Address(
    name="Ada", line1="2 Elm St", city="Portland", region="OR", postal_code="97201", country="US"
)
NOWHERE = Address(
    name="Ada",
    line1="0 Void St",
    city="Nowhere",
    region="OR",
    postal_code=REFUSED_POSTAL_CODE,
    country="US",
)
PARCEL = Parcel(weight_grams=800)


async def quote(carrier: UpsCarrier | ShipEngineCarrier, to: Address = TO) -> object:
    return await carrier.quote(ship_from=FROM, ship_to=to, parcel=PARCEL, currency="USD")


async def test_ups_answering_its_documented_error_body_is_refused_with_its_message() -> None:
    async with running.ups() as (carrier, world, _):
        world.fail_next(world.error(400, "111057", "This measurement is not valid."))

        with pytest.raises(CarrierRefusedError, match="111057: This measurement is not valid"):
            await quote(carrier)


async def test_shipengine_answering_its_documented_error_body_is_refused_with_its_message() -> None:
    async with running.shipengine() as (carrier, world, _):
        world.fail_next(
            world.error(400, "validation", "field_value_required", "packages is required")
        )

        with pytest.raises(CarrierRefusedError, match="packages is required"):
            await quote(carrier)


async def test_an_address_the_vendor_refuses_is_an_address_refusal() -> None:
    async with running.ups() as (ups, _, _):
        with pytest.raises(AddressRefusedError):
            await ups.create_label(
                ship_from=FROM,
                ship_to=NOWHERE,
                parcel=PARCEL,
                service="03",
                currency="USD",
                reference="shipment-1",
                idempotency_key="k-1",
            )
    async with running.shipengine() as (shipengine, _, _):
        with pytest.raises(AddressRefusedError, match="00000"):
            await quote(shipengine, NOWHERE)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_5xx_is_worth_asking_again(status: int) -> None:
    async with running.ups() as (ups, ups_world, _), running.shipengine() as (se, se_world, _):
        ups_world.fail_next(raw_json(status, {"response": {"errors": []}}))
        se_world.fail_next(raw_json(status, {"errors": []}))

        with pytest.raises(CarrierUnavailableError):
            await quote(ups)
        with pytest.raises(CarrierUnavailableError):
            await quote(se)
        assert await quote(ups)  # the next call goes through
        assert await quote(se)


async def test_a_body_that_is_not_json_is_worth_asking_again() -> None:
    async with running.ups() as (ups, ups_world, _), running.shipengine() as (se, se_world, _):
        ups_world.fail_next(malformed())
        se_world.fail_next(malformed())

        with pytest.raises(CarrierUnavailableError, match="not JSON"):
            await quote(ups)
        with pytest.raises(CarrierUnavailableError, match="not JSON"):
            await quote(se)


async def test_a_timeout_is_worth_asking_again() -> None:
    def too_slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(too_slow))
    carrier = ShipEngineCarrier(
        api_key="k", carrier_ids=["se-1"], phone="1", clock=FixedClock(running.T0), client=client
    )

    with pytest.raises(CarrierUnavailableError, match="in time"):
        await quote(carrier)


async def test_the_ups_token_is_kept_until_shortly_before_it_expires() -> None:
    clock = FixedClock(running.T0)
    async with running.ups(clock=clock) as (carrier, world, _):
        await quote(carrier)
        await quote(carrier)
        assert world.tokens_issued == 1

        clock.advance(timedelta(seconds=14399) - timedelta(minutes=4))  # inside the margin
        await quote(carrier)
        assert world.tokens_issued == 2


async def test_a_ups_token_ended_early_is_replaced_and_the_call_made_once_more() -> None:
    async with running.ups() as (carrier, world, server):
        await quote(carrier)
        world.revoke_tokens()  # UPS ends it before its announced expiry

        assert await quote(carrier)
        assert world.tokens_issued == 2
        rating = [r for r in server.received if r.path.startswith("/api/rating/")]
        assert len(rating) == 3  # the refused call was made again, once


async def test_wrong_ups_credentials_are_a_carrier_error_not_a_retry_loop() -> None:
    async with running.ups() as (carrier, world, server):
        world.client_secret = "rotated"  # the carrier still has the old one

        with pytest.raises(CarrierError, match="ClientId is Invalid"):
            await quote(carrier)
        assert [r.path for r in server.received] == ["/security/v1/oauth/token"]


async def test_a_shipengine_label_bought_before_under_the_key_is_returned_not_bought_again() -> (
    None
):
    async with running.shipengine() as (first, world, server):
        bought = await first.create_label(
            ship_from=FROM,
            ship_to=TO,
            parcel=PARCEL,
            service="usps_priority_mail",
            currency="USD",
            reference="shipment-1",
            idempotency_key="shipment-1:label",
        )
        after_restart = ShipEngineCarrier(  # a new process: it remembers nothing
            api_key=world.api_key,
            carrier_ids=["se-161650"],
            phone="+1 555 0100",
            clock=FixedClock(running.T0),
            base_url=server.url,
        )
        again = await after_restart.create_label(
            ship_from=FROM,
            ship_to=TO,
            parcel=PARCEL,
            service="usps_priority_mail",
            currency="USD",
            reference="shipment-1",
            idempotency_key="shipment-1:label",
        )
        await after_restart.aclose()

    assert again.tracking_number == bought.tracking_number
    assert len(world.labels) == 1
    assert again.document.content.startswith(b"%PDF")


async def test_a_ups_label_comes_back_as_the_png_ups_sent() -> None:
    async with running.ups() as (carrier, _, _):
        label = await carrier.create_label(
            ship_from=FROM,
            ship_to=TO,
            parcel=PARCEL,
            service="03",
            currency="USD",
            reference="shipment-1",
            idempotency_key="k-1",
        )

    assert label.document.format == "png"
    assert label.document.content.startswith(b"\x89PNG")


async def test_a_label_answer_missing_what_we_need_is_worth_asking_again() -> None:
    async with running.ups() as (carrier, world, _):
        world.fail_next(Answer(200, raw=b'{"ShipmentResponse": {}}'))

        with pytest.raises(CarrierUnavailableError, match="lacks"):
            await carrier.create_label(
                ship_from=FROM,
                ship_to=TO,
                parcel=PARCEL,
                service="03",
                currency="USD",
                reference="shipment-1",
                idempotency_key="k-1",
            )
