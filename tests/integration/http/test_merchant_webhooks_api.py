"""Merchant webhooks over real HTTP on PostgreSQL (ADR 0036): an endpoint registered
through the API receives signed deliveries of the tenant's order events in a real HTTP
receiver, which fails twice on purpose and then accepts; the worker is driven step by
step on a clock moved by hand."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.clock import FixedClock
from commerce_core.merchant_webhooks.dispatch import LEASE
from entrypoints.merchant_webhook_worker import MerchantWebhooks, merchant_webhooks
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.http.test_operator_and_grants import paid_order
from tests.integration.http.test_orders_api import Shop
from tests.integration.merchant_webhooks.receiver import Receiver, receiving

PROBLEM = "https://commerce-core.dev/problems/"
ONLY_PROJECTIONS = frozenset({"projections"})  # the test drives the webhook worker itself


@dataclasses.dataclass
class World:
    api: Api
    shop: Shop
    hooks: MerchantWebhooks
    clock: FixedClock
    receiver: Receiver


@pytest.fixture
async def world(make_api: MakeApi) -> AsyncIterator[World]:
    api = await make_api(webhook_allow_private=True, background_work=ONLY_PROJECTIONS)
    _, key = await api.tenant("acme")
    clock = FixedClock(datetime.now(UTC))
    built = merchant_webhooks(api.app.state.container, api.app.state.container.settings())
    hooks = dataclasses.replace(
        built, dispatch=dataclasses.replace(built.dispatch, clock=clock, jitter=lambda: 1.0)
    )
    async with receiving(now=lambda: clock.now().timestamp()) as receiver:
        yield World(api, Shop(api, key), hooks, clock, receiver)


async def register(world: World, events: list[str]) -> dict[str, Any]:
    created = await world.shop.call(
        "POST", "/webhook-endpoints", {"url": world.receiver.url, "events": events}
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    world.receiver.secrets.append(body["secret"])
    return body


async def fan_out_all(hooks: MerchantWebhooks) -> None:
    while await hooks.fan_out():
        pass


async def fan_out_past(hooks: MerchantWebhooks, stream_id: str) -> None:
    """Fans out until the checkpoint has passed the stream's newest event. The fan-out
    reads only below the oldest transaction still open on the server (other tests' too),
    so events just written may take a moment to be visible to it."""
    [*_, newest] = await hooks.log.read_stream(uuid.UUID(stream_id))
    for _ in range(500):
        await fan_out_all(hooks)
        if await hooks.dispatch.deliveries.checkpoint() >= newest.position:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the fan-out never passed stream {stream_id}")


async def fan_out_until(hooks: MerchantWebhooks, shop: Shop, order_id: str, status: str) -> None:
    """Fans out once the order reached ``status``: a payment's follow-ups (order paid)
    are appended just after the charge answers, so the test waits for them, briefly."""
    for _ in range(200):
        order = (await shop.call("GET", f"/orders/{order_id}")).json()
        if order["status"] == status:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError(f"order {order_id} never became {status}")
    await fan_out_past(hooks, order_id)


async def test_a_delivery_that_fails_twice_is_retried_with_backoff_until_it_succeeds(
    world: World,
) -> None:
    endpoint = await register(world, ["order.paid"])
    world.receiver.answers = [500, 503]
    order = await paid_order(world.shop)
    await fan_out_until(world.hooks, world.shop, order["id"], "paid")

    assert await world.hooks.deliver() == 1  # 500
    assert await world.hooks.deliver() == 0  # not due before its backoff
    world.clock.advance(timedelta(seconds=30))
    assert await world.hooks.deliver() == 1  # 503
    world.clock.advance(timedelta(seconds=59))
    assert await world.hooks.deliver() == 0
    world.clock.advance(timedelta(seconds=1))
    assert await world.hooks.deliver() == 1  # 200
    world.clock.advance(timedelta(days=4))
    await fan_out_all(world.hooks)
    assert await world.hooks.deliver() == 0  # done: sent once, whatever the retries

    received = world.receiver.received
    assert len(received) == 3
    assert all(r.verified for r in received)
    assert len({r.headers["commerce-event-id"] for r in received}) == 1
    event = json.loads(received[-1].body)
    assert event["type"] == "order.paid"
    assert event["payload"]["order_id"] == order["id"]

    listed = await world.shop.call("GET", f"/webhook-endpoints/{endpoint['id']}/deliveries")
    assert listed.status_code == 200, listed.text
    [delivery] = listed.json()["items"]
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert all(len(a["response_body"]) <= 1025 for a in delivery["attempts"])
    failed = await world.shop.call(
        "GET", f"/webhook-endpoints/{endpoint['id']}/deliveries?status=failed"
    )
    assert failed.json()["items"] == []


class KilledAfterPosting:
    """The worker's deliveries, except that recording an attempt never happens: the
    process was killed after the receiver answered."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def record(self, delivery: Any, outcome: Any) -> None:
        raise RuntimeError("killed before the attempt was recorded")


async def test_a_worker_killed_after_posting_resends_after_the_lease_with_the_same_event_id(
    world: World,
) -> None:
    """At least once, as documented: the copy carries the same ``Commerce-Event-Id`` for
    the receiver to drop, and nothing is resent while the lease holds."""
    endpoint = await register(world, ["order.placed"])
    await world.shop.stock_product("MUG-1", 1000, 10)
    assert (await world.shop.order(("MUG-1", 1))).status_code == 201
    killed = dataclasses.replace(
        world.hooks,
        dispatch=dataclasses.replace(
            world.hooks.dispatch, deliveries=KilledAfterPosting(world.hooks.dispatch.deliveries)
        ),
    )
    for _ in range(200):  # until the order's event is visible to the fan-out
        await fan_out_all(world.hooks)
        try:
            if await killed.deliver():
                break
        except RuntimeError:
            break
        await asyncio.sleep(0.02)
    assert len(world.receiver.received) == 1

    world.clock.advance(LEASE - timedelta(seconds=1))
    assert await world.hooks.deliver() == 0  # the lease holds
    world.clock.advance(timedelta(seconds=2))
    assert await world.hooks.deliver() == 1
    world.clock.advance(timedelta(days=4))
    assert await world.hooks.deliver() == 0

    first, again = world.receiver.received
    assert first.headers["commerce-event-id"] == again.headers["commerce-event-id"]
    assert first.body == again.body
    listed = await world.shop.call("GET", f"/webhook-endpoints/{endpoint['id']}/deliveries")
    [delivery] = listed.json()["items"]
    assert delivery["status"] == "succeeded"
    assert [a["status_code"] for a in delivery["attempts"]] == [200]


async def test_the_secret_is_shown_once_and_never_again(world: World) -> None:
    endpoint = await register(world, ["order.*"])
    secret = endpoint["secret"]
    order = await paid_order(world.shop)
    await fan_out_until(world.hooks, world.shop, order["id"], "paid")
    await world.hooks.deliver()
    base = f"/webhook-endpoints/{endpoint['id']}"
    answers = [
        await world.shop.call("GET", "/webhook-endpoints"),
        await world.shop.call("GET", base),
        await world.shop.call("GET", f"{base}/deliveries"),
        await world.shop.call("PATCH", base, {"description": "warehouse"}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert secret not in answer.text
        assert "secret" not in answer.json() if isinstance(answer.json(), dict) else True
    assert len(world.receiver.received) == 2  # order.placed and order.paid
    assert all(r.verified for r in world.receiver.received)


async def test_a_rotated_secret_signs_beside_the_old_one_during_the_window(world: World) -> None:
    endpoint = await register(world, ["order.placed"])
    old = endpoint["secret"]
    rotated = await world.shop.call("POST", f"/webhook-endpoints/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old
    assert rotated.json()["previous_secret_expires_at"] is not None
    world.receiver.secrets = [old]  # a receiver that has not switched yet
    await world.shop.stock_product("MUG-1", 1000, 10)
    placed = await world.shop.order(("MUG-1", 1))
    assert placed.status_code == 201
    await fan_out_past(world.hooks, placed.json()["id"])
    await world.hooks.deliver()
    [got] = world.receiver.received
    assert got.verified
    assert got.headers["commerce-signature"].count("v1=") == 2


async def test_an_endpoint_gets_only_the_events_after_it_was_made(world: World) -> None:
    order = await paid_order(world.shop)
    await register(world, ["*"])
    await fan_out_until(world.hooks, world.shop, order["id"], "paid")
    assert await world.hooks.deliver() == 0


async def test_a_name_that_resolves_to_a_private_address_at_delivery_is_refused(
    make_api: MakeApi,
) -> None:
    api = await make_api(background_work=ONLY_PROJECTIONS)
    _, key = await api.tenant("acme")
    shop = Shop(api, key)
    created = await shop.call(
        "POST", "/webhook-endpoints", {"url": "https://hooks.example.com/in", "events": ["*"]}
    )
    assert created.status_code == 201, created.text

    class Rebound:
        async def resolve(self, host: str) -> list[str]:
            return ["10.1.2.3"]

    built = merchant_webhooks(api.app.state.container, api.app.state.container.settings())
    hooks = dataclasses.replace(
        built, dispatch=dataclasses.replace(built.dispatch, resolver=Rebound())
    )
    order = await paid_order(shop)
    await fan_out_until(hooks, shop, order["id"], "paid")
    attempted = await hooks.deliver()  # placed, payment created and captured, paid
    listed = await shop.call("GET", f"/webhook-endpoints/{created.json()['id']}/deliveries")
    assert attempted == len(listed.json()["items"]) >= 2
    for delivery in listed.json()["items"]:
        [attempt] = delivery["attempts"]
        assert attempt["status_code"] is None
        assert "10.1.2.3" in attempt["error"]
        assert delivery["status"] == "pending"  # retried later: the name may be fixed


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://10.0.0.5/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("https://[::1]/hooks", "private"),
        ("https://localhost/hooks", "private"),
        ("http://shop.example.com/hooks", "https"),
        ("ftp://shop.example.com/hooks", "https"),
        ("https://user:pw@shop.example.com/hooks", "url"),
        ("https://shop.example.com/" + "a" * 2100, "2048"),
    ],
)
async def test_urls_that_webhooks_may_not_reach_are_refused(api: Api, url: str, says: str) -> None:
    _, key = await api.tenant("acme")
    refused = await Shop(api, key).call(
        "POST", "/webhook-endpoints", {"url": url, "events": ["order.*"]}
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == PROBLEM + "validation-error"
    assert says in refused.json()["detail"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://10.0.0.5/hooks", "private"),
        ("https://169.254.169.254/latest/meta-data", "private"),
        ("http://shop.example.com/hooks", "https"),
        ("not a url", "url"),
    ],
)
async def test_an_endpoint_cannot_be_moved_to_a_url_webhooks_may_not_reach(
    api: Api, url: str, says: str
) -> None:
    _, key = await api.tenant("acme")
    shop = Shop(api, key)
    created = await shop.call(
        "POST", "/webhook-endpoints", {"url": "https://a.example.com/in", "events": ["*"]}
    )
    assert created.status_code == 201, created.text
    path = f"/webhook-endpoints/{created.json()['id']}"
    refused = await shop.call("PATCH", path, {"url": url, "description": "moved"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == PROBLEM + "validation-error"
    assert says in refused.json()["detail"]
    kept = (await shop.call("GET", path)).json()
    assert (kept["url"], kept["description"]) == ("https://a.example.com/in", None)


async def test_a_redirect_is_recorded_as_the_answer_and_never_followed(world: World) -> None:
    """A receiver may not bounce a signed delivery on to another address (an internal one,
    say): the 307 is the attempt's answer, retried later like any failure."""
    async with receiving() as elsewhere:
        elsewhere.secrets = ["anything"]
        world.receiver.redirect_to = elsewhere.url
        endpoint = await register(world, ["order.placed"])
        await world.shop.stock_product("MUG-1", 1000, 10)
        assert (await world.shop.order(("MUG-1", 1))).status_code == 201
        for _ in range(200):  # until the order's event is visible to the fan-out
            await fan_out_all(world.hooks)
            if await world.hooks.deliver():
                break
            await asyncio.sleep(0.02)
        assert len(world.receiver.received) == 1
        assert elsewhere.received == []
    listed = await world.shop.call("GET", f"/webhook-endpoints/{endpoint['id']}/deliveries")
    [delivery] = listed.json()["items"]
    assert delivery["status"] == "pending"
    assert [a["status_code"] for a in delivery["attempts"]] == [307]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://shop.example.com/in", "events": ["order.exploded"]},
        {"url": "https://shop.example.com/in", "events": []},
        {"url": "https://shop.example.com/in"},
        {"events": ["order.*"]},
        {"url": "https://shop.example.com/in", "events": ["order.*"], "secret": "mine"},
        {"url": 5, "events": ["order.*"]},
    ],
)
async def test_malformed_endpoints_are_refused(api: Api, body: dict[str, Any]) -> None:
    _, key = await api.tenant("acme")
    refused = await Shop(api, key).call("POST", "/webhook-endpoints", body)
    assert refused.status_code == 422, refused.text
    assert (await Shop(api, key).call("GET", "/webhook-endpoints")).json()["items"] == []


async def test_another_tenants_endpoint_is_not_found_and_untouched(api: Api) -> None:
    _, ours = await api.tenant("acme")
    _, theirs = await api.tenant("rival")
    created = await Shop(api, ours).call(
        "POST", "/webhook-endpoints", {"url": "https://a.example.com/in", "events": ["*"]}
    )
    eid = created.json()["id"]
    rival = Shop(api, theirs)
    for method, path, body in [
        ("GET", f"/webhook-endpoints/{eid}", None),
        ("PATCH", f"/webhook-endpoints/{eid}", {"enabled": False}),
        ("DELETE", f"/webhook-endpoints/{eid}", None),
        ("POST", f"/webhook-endpoints/{eid}/rotate-secret", None),
        ("GET", f"/webhook-endpoints/{eid}/deliveries", None),
        ("POST", f"/webhook-deliveries/{eid}/retry", None),
    ]:
        answer = await rival.call(method, path, body)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.json()["type"] == PROBLEM + "not-found"
    assert (await rival.call("GET", "/webhook-endpoints")).json()["items"] == []
    mine = await Shop(api, ours).call("GET", f"/webhook-endpoints/{eid}")
    assert mine.json()["status"] == "enabled"


async def test_staff_read_endpoints_and_only_admins_change_them(api: Api) -> None:
    from commerce_core.tenancy.ports.tenants import Role

    tenant, admin = await api.tenant("acme")
    staff = await api.key(tenant, Role.STAFF)
    service = await api.key(tenant, Role.SERVICE)
    body = {"url": "https://a.example.com/in", "events": ["*"]}
    refused = await api.client.post("/api/v1/webhook-endpoints", json=body, headers=bearer(staff))
    assert refused.status_code == 403
    assert refused.json()["type"] == PROBLEM + "forbidden"
    machine = await api.client.get("/api/v1/webhook-endpoints", headers=bearer(service))
    assert machine.status_code == 403
    made = await api.client.post("/api/v1/webhook-endpoints", json=body, headers=bearer(admin))
    assert made.status_code == 201
    seen = await api.client.get("/api/v1/webhook-endpoints", headers=bearer(staff))
    assert seen.status_code == 200
    assert [e["id"] for e in seen.json()["items"]] == [made.json()["id"]]


async def test_a_deleted_endpoint_gets_nothing_more(world: World) -> None:
    endpoint = await register(world, ["order.*"])
    order = await paid_order(world.shop)
    await fan_out_until(world.hooks, world.shop, order["id"], "paid")
    gone = await world.shop.call("DELETE", f"/webhook-endpoints/{endpoint['id']}")
    assert gone.status_code == 204, gone.text
    assert await world.hooks.deliver() == 0
    assert world.receiver.received == []
    again = await world.shop.call("GET", f"/webhook-endpoints/{endpoint['id']}")
    assert again.status_code == 404
