"""Shipped and delivered texts through the official ``twilio`` SDK to a local Twilio that
checks every request against Twilio's published spec (form body, account SID, basic auth)
and answers with the spec's own example: sent once to a customer who consented to SMS;
Twilio's 4xx (an invalid or unsubscribed number, bad credentials) fails the text for good
with Twilio's message; a 429 or 5xx is retried after the backoff."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.clock import FixedClock
from tests.integration.carriers.vendor_server import Server, serve
from tests.integration.http.conftest import MakeApi
from tests.integration.http.test_notifications_api import ONLY_PROJECTIONS, World, record_all, run
from tests.integration.http.test_orders_api import Shop
from tests.integration.notifications.smtp_server import smtp_server
from tests.integration.notifications.twilio_world import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM,
    TwilioWorld,
    twilio_error,
)

PHONE = "+14155550123"


@dataclasses.dataclass
class SmsWorld:
    world: World
    twilio: TwilioWorld
    server: Server


@pytest.fixture
async def sms(make_api: MakeApi) -> AsyncIterator[SmsWorld]:
    twilio = TwilioWorld()
    with serve(twilio) as server:
        async with smtp_server() as mailbox:
            api = await make_api(
                smtp_url=mailbox.url,
                email_from="shop@example.com",
                background_work=ONLY_PROJECTIONS,
                twilio_account_sid=ACCOUNT_SID,
                twilio_auth_token=AUTH_TOKEN,
                twilio_from=FROM,
                twilio_base_url=server.url,
            )
            _, key = await api.tenant("acme")
            world = World(api, Shop(api, key), FixedClock(datetime.now(UTC)), mailbox)
            yield SmsWorld(world, twilio, server)
        assert server.violations == []


async def shipped_order(shop: Shop, sms: bool = True) -> dict[str, Any]:
    """A paid order of a customer with a phone (consenting to texts or not), shipped."""
    customer = await shop.call(
        "POST",
        "/customers",
        {"email": "ada@example.com", "phone": PHONE, "consent": {"email": False, "sms": sms}},
    )
    assert customer.status_code == 201, customer.text
    await shop.stock_product("MUG-1", 1000, 10)
    placed = await shop.order(("MUG-1", 1), customer={"id": customer.json()["id"]})
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    body = {"order_id": order["id"], "payment_method": {"type": "card", "token": "tok_visa"}}
    charged = await shop.call("POST", "/payments/charge", body)
    assert charged.status_code == 201, charged.text
    shipped = await shop.call("POST", f"/orders/{order['id']}/shipments", {"carrier": "ups"})
    assert shipped.status_code == 201, shipped.text
    return {**order, "shipment_id": shipped.json()["id"]}


async def sms_rows(world: World) -> list[dict[str, Any]]:
    listed = await world.shop.call("GET", "/admin/notifications")
    assert listed.status_code == 200, listed.text
    return [i for i in listed.json()["items"] if i["channel"] == "sms"]


async def test_the_shipped_and_delivered_texts_go_out_once_through_the_sdk_as_twilio_documents(
    sms: SmsWorld,
) -> None:
    order = await shipped_order(sms.world.shop)
    await sms.world.reached(order["id"], "shipped")
    await run(sms.world.worker())
    await run(sms.world.worker())  # a restarted worker sends nothing again

    assert len(sms.twilio.sent) == 1
    sent = sms.twilio.sent[0]
    assert (sent["To"], sent["From"]) == (PHONE, FROM)
    assert f"/orders/{order['id']}/tracking" in sent["Body"]
    assert sms.server.received[0].path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert sms.server.violations == []
    rows = await sms_rows(sms.world)
    assert [(r["kind"], r["status"], r["attempts"]) for r in rows] == [("shipped", "sent", 1)]
    assert rows[0]["recipient"] == "+14*******23"

    delivered = await sms.world.shop.call(
        "POST", f"/shipments/{order['shipment_id']}/events", {"status": "delivered"}
    )
    assert delivered.status_code == 201, delivered.text
    await sms.world.reached(order["id"], "delivered")
    await run(sms.world.worker())
    await run(sms.world.worker())
    assert len(sms.twilio.sent) == 2
    assert sms.twilio.sent[1]["To"] == PHONE
    kinds = sorted((r["kind"], r["status"]) for r in await sms_rows(sms.world))
    assert kinds == [("delivered", "sent"), ("shipped", "sent")]


async def test_no_text_without_sms_consent(sms: SmsWorld) -> None:
    order = await shipped_order(sms.world.shop, sms=False)
    await sms.world.reached(order["id"], "shipped")
    await run(sms.world.worker())
    assert sms.server.received == []
    assert await sms_rows(sms.world) == []


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, 21211, f"The 'To' number {PHONE} is not a valid phone number."),
        (400, 21610, "Attempt to send to unsubscribed recipient"),
        (401, 20003, "Authenticate"),
        (403, 20008, "Resource not accessible with Test Account Credentials"),
        (404, 20404, "The requested resource was not found"),
    ],
)
async def test_a_twilio_4xx_fails_the_text_for_good_with_twilios_message(
    sms: SmsWorld, status: int, code: int, message: str
) -> None:
    sms.twilio.next_answers.append(lambda _: twilio_error(status, code, message))
    order = await shipped_order(sms.world.shop)
    await sms.world.reached(order["id"], "shipped")
    worker = sms.world.worker()
    await run(worker)
    sms.world.clock.advance(timedelta(days=2))  # past every backoff: nothing is tried again
    await run(worker)
    await run(sms.world.worker())

    assert sms.twilio.sent == []
    assert len(sms.server.received) == 1
    [row] = await sms_rows(sms.world)
    assert (row["status"], row["attempts"], row["sent_at"]) == ("failed", 1, None)
    assert row["last_error"] == (
        f"Twilio error {code} (HTTP {status}): Unable to create record: {message}"
    )


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503)])
async def test_a_twilio_429_or_5xx_is_retried_after_the_backoff_and_sent_once(
    sms: SmsWorld, status: int, code: int
) -> None:
    sms.twilio.next_answers.append(lambda _: twilio_error(status, code, "Try again later"))
    order = await shipped_order(sms.world.shop)
    await sms.world.reached(order["id"], "shipped")
    worker = sms.world.worker()
    await run(worker)
    assert sms.twilio.sent == []
    [row] = await sms_rows(sms.world)
    assert (row["status"], row["attempts"]) == ("pending", 1)
    await run(worker)  # not due before its backoff
    assert len(sms.server.received) == 1

    sms.world.clock.advance(timedelta(hours=1))
    await run(worker)
    await run(worker)
    assert len(sms.twilio.sent) == 1
    assert len(sms.server.received) == 2
    [row] = await sms_rows(sms.world)
    assert (row["status"], row["attempts"]) == ("sent", 2)


async def test_a_wrong_auth_token_is_refused_and_recorded(
    make_api: MakeApi,
) -> None:
    twilio = TwilioWorld()
    with serve(twilio) as server:
        async with smtp_server() as mailbox:
            api = await make_api(
                smtp_url=mailbox.url,
                email_from="shop@example.com",
                background_work=ONLY_PROJECTIONS,
                twilio_account_sid=ACCOUNT_SID,
                twilio_auth_token="not-the-token",
                twilio_from=FROM,
                twilio_base_url=server.url,
            )
            _, key = await api.tenant("acme")
            world = World(api, Shop(api, key), FixedClock(datetime.now(UTC)), mailbox)
            order = await shipped_order(world.shop)
            await world.reached(order["id"], "shipped")
            await run(world.worker())
            [row] = await sms_rows(world)
    assert twilio.sent == []
    assert server.received[0].headers["authorization"].startswith("Basic ")
    assert (row["status"], row["attempts"]) == ("failed", 1)  # a 401 is not retried
    assert (
        row["last_error"] == "Twilio error 20003 (HTTP 401): Unable to create record: Authenticate"
    )
    assert server.violations == []


async def test_a_text_queued_before_the_customer_was_erased_is_never_sent(
    sms: SmsWorld,
) -> None:
    order = await shipped_order(sms.world.shop)
    await sms.world.reached(order["id"], "shipped")
    worker = sms.world.worker()
    await record_all(worker)  # recorded while the customer and their consent were there
    [queued] = await sms_rows(sms.world)
    assert queued["status"] == "pending"
    erased = await sms.world.shop.call("DELETE", f"/customers/{order['customer_id']}")
    assert erased.status_code == 204, erased.text
    await run(worker)
    sms.world.clock.advance(timedelta(days=1))
    await run(sms.world.worker())

    assert sms.server.received == []
    [skipped] = await sms_rows(sms.world)
    assert (skipped["status"], skipped["attempts"]) == ("skipped", 0)
