"""Rate limits over real HTTP on PostgreSQL (and the real Redis): per API key and route
class, failed authentications per client address, checkouts per customer, shared counts.

Each test freezes the limiter's clock (the container's) and moves it by hand.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from dependency_injector import providers

from adapters.memory.clock import FixedClock
from commerce_core.tenancy.ports.tenants import Role, Tenant, TenantSettings
from commerce_core.tenancy.rate_limits import RateLimitSettings, RouteLimit
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.http.test_orders_api import Shop
from tests.redis_url import TEST_REDIS_URL, unique_prefix

RATE_LIMITED = "https://commerce-core.dev/problems/rate-limited"
WHOAMI = "/api/v1/_test/whoami"


def frozen(*apis: Api) -> FixedClock:
    """One hand-moved clock for the limiters of all ``apis``."""
    clock = FixedClock()
    for api in apis:
        api.container.clock.override(providers.Object(clock))
    return clock


@asynccontextmanager
async def client_at(api: Api, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests come from ``address`` (the ASGI scope's client)."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 40_000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def assert_rate_limited(answer: httpx.Response, retry_after: str) -> None:
    assert answer.status_code == 429, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == RATE_LIMITED
    assert answer.headers["Retry-After"] == retry_after
    assert answer.headers["RateLimit-Remaining"] == "0"


async def set_limits(api: Api, tenant: Tenant, limits: RateLimitSettings) -> None:
    await api.container.tenants().update_settings(tenant.id, TenantSettings(rate_limits=limits))


async def test_a_key_over_its_limit_gets_429_while_other_keys_and_tenants_go_on(
    make_api: MakeApi,
) -> None:
    api = await make_api(rate_limit_per_second=1, rate_limit_burst=3)
    clock = frozen(api)
    acme, acme_admin = await api.tenant("acme")
    acme_staff = await api.key(acme, Role.STAFF)
    _, other_admin = await api.tenant("other")

    answers = [await api.client.get(WHOAMI, headers=bearer(acme_admin)) for _ in range(4)]

    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert [a.headers["RateLimit-Limit"] for a in answers[:3]] == ["3", "3", "3"]
    assert [a.headers["RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert answers[2].headers["RateLimit-Reset"] == "3"
    assert_rate_limited(answers[3], retry_after="1")
    # the same tenant's other key, another tenant, and the key's writes are counted apart
    staff = await api.client.get(WHOAMI, headers=bearer(acme_staff))
    other = await api.client.get(WHOAMI, headers=bearer(other_admin))
    write = await api.client.post("/api/v1/_test/counter", json={}, headers=bearer(acme_admin))
    assert (staff.status_code, staff.headers["RateLimit-Remaining"]) == (200, "2")
    assert (other.status_code, other.headers["RateLimit-Remaining"]) == (200, "2")
    assert (write.status_code, write.headers["RateLimit-Remaining"]) == (201, "2")

    clock.advance(timedelta(seconds=1))
    again = await api.client.get(WHOAMI, headers=bearer(acme_admin))
    assert (again.status_code, again.headers["RateLimit-Remaining"]) == (200, "0")


async def test_a_refused_request_neither_runs_nor_claims_its_idempotency_key(
    make_api: MakeApi,
) -> None:
    api = await make_api(rate_limit_per_second=1, rate_limit_burst=1)
    clock = frozen(api)
    _, admin = await api.tenant("acme")
    keyed = {**bearer(admin), "Idempotency-Key": "once"}
    first = await api.client.post("/api/v1/_test/counter", json={"n": 1}, headers=bearer(admin))
    assert first.status_code == 201

    refused = await api.client.post("/api/v1/_test/counter", json={"n": 2}, headers=keyed)
    assert_rate_limited(refused, retry_after="1")
    assert api.probe.calls == 1

    clock.advance(timedelta(seconds=1))
    retried = await api.client.post("/api/v1/_test/counter", json={"n": 2}, headers=keyed)
    assert retried.status_code == 201, retried.text
    assert retried.json()["calls"] == 2


async def test_real_routes_carry_the_headers_and_errors_too(make_api: MakeApi) -> None:
    api = await make_api()
    frozen(api)
    _, admin = await api.tenant("acme")

    listed = await api.client.get("/api/v1/orders", headers=bearer(admin))
    missing = await api.client.get(f"/api/v1/orders/{uuid.uuid4()}", headers=bearer(admin))

    assert listed.status_code == 200
    assert (listed.headers["RateLimit-Limit"], listed.headers["RateLimit-Remaining"]) == (
        "200",
        "199",
    )
    assert missing.status_code == 404
    assert missing.headers["RateLimit-Remaining"] == "198"


async def test_61_failed_authentications_from_one_address_get_429_another_address_401(
    make_api: MakeApi,
) -> None:
    api = await make_api()
    clock = frozen(api)
    _, admin = await api.tenant("acme")

    async with client_at(api, "127.0.0.7") as guesser, client_at(api, "127.0.0.8") as neighbour:
        guesses = [
            await guesser.get(WHOAMI, headers=bearer(f"ck_live_guess{i}")) for i in range(61)
        ]
        assert [g.status_code for g in guesses[:60]] == [401] * 60
        assert_rate_limited(guesses[60], retry_after="1")
        # while blocked even a valid key is refused unread: no answer tells a good guess
        assert_rate_limited(await guesser.get(WHOAMI, headers=bearer(admin)), retry_after="1")
        # a request presenting no key guesses nothing and is not counted
        assert (await guesser.get(WHOAMI)).status_code == 401

        assert (await neighbour.get(WHOAMI, headers=bearer("ck_live_guess"))).status_code == 401
        assert (await neighbour.get(WHOAMI, headers=bearer(admin))).status_code == 200

        clock.advance(timedelta(seconds=1))  # 60 a minute: one more guess a second
        assert (await guesser.get(WHOAMI, headers=bearer("ck_live_x"))).status_code == 401
        assert (await guesser.get(WHOAMI, headers=bearer("ck_live_y"))).status_code == 429


async def test_the_checkout_limit_when_a_tenant_enables_it(make_api: MakeApi) -> None:
    api = await make_api()
    clock = frozen(api)
    acme, acme_key = await api.tenant("acme")
    _, other_key = await api.tenant("other")
    shop, other = Shop(api, acme_key), Shop(api, other_key)
    for s in (shop, other):
        await s.stock_product("MUG-1", 1000, 100)

    # off by default: a customer may order as often as it likes
    for _ in range(4):
        assert (await shop.order(("MUG-1", 1))).status_code == 201

    await set_limits(api, acme, RateLimitSettings(checkout_per_minute=2))
    customer = {"customer": {"email": "bob@example.com", "name": "Bob"}}
    shouty = {"customer": {"email": "  BOB@Example.com", "name": "Bob"}}
    assert (await shop.order(("MUG-1", 1), **customer)).status_code == 201
    assert (await shop.order(("MUG-1", 1), **customer)).status_code == 201
    available = await shop.available("MUG-1")

    refused = await shop.call(
        "POST",
        "/orders",
        {"lines": [{"sku": "MUG-1", "quantity": 1}], "currency": "USD", **shouty},
        **{"Idempotency-Key": "bob-3"},
    )
    assert_rate_limited(refused, retry_after="30")
    assert refused.headers["RateLimit-Limit"] == "2"
    assert await shop.available("MUG-1") == available  # nothing reserved
    # another customer of the tenant, and the same email at another tenant, go on
    assert (await shop.order(("MUG-1", 1))).status_code == 201
    assert (await other.order(("MUG-1", 1), **customer)).status_code == 201

    clock.advance(timedelta(seconds=30))
    retried = await shop.call(
        "POST",
        "/orders",
        {"lines": [{"sku": "MUG-1", "quantity": 1}], "currency": "USD", **shouty},
        **{"Idempotency-Key": "bob-3"},
    )
    assert retried.status_code == 201, retried.text


async def test_the_checkout_limit_counts_a_customer_by_id(make_api: MakeApi) -> None:
    api = await make_api()
    frozen(api)
    acme, key = await api.tenant("acme")
    shop = Shop(api, key)
    await shop.stock_product("MUG-1", 1000, 10)
    placed = await shop.order(("MUG-1", 1))
    customer_id = placed.json()["customer_id"]
    await set_limits(api, acme, RateLimitSettings(checkout_per_minute=1))

    by_id = {"customer": {"id": customer_id}}
    assert (await shop.order(("MUG-1", 1), **by_id)).status_code == 201
    assert_rate_limited(await shop.order(("MUG-1", 1), **by_id), retry_after="60")


async def test_a_tenant_setting_changes_its_keys_limit(make_api: MakeApi) -> None:
    api = await make_api(rate_limit_per_second=1, rate_limit_burst=2)
    frozen(api)
    generous, generous_key = await api.tenant("generous")
    strict, strict_key = await api.tenant("strict")
    _, default_key = await api.tenant("default")
    await set_limits(api, generous, RateLimitSettings(reads=RouteLimit(per_second=1, burst=5)))
    await set_limits(api, strict, RateLimitSettings(payments=RouteLimit(per_second=1, burst=1)))

    generous_reads = [await api.client.get(WHOAMI, headers=bearer(generous_key)) for _ in range(6)]
    default_reads = [await api.client.get(WHOAMI, headers=bearer(default_key)) for _ in range(3)]

    assert [r.status_code for r in generous_reads] == [200] * 5 + [429]
    assert generous_reads[0].headers["RateLimit-Limit"] == "5"
    assert [r.status_code for r in default_reads] == [200, 200, 429]
    # the strict tenant's payments: one at once; its reads keep the default
    charge = {"order_id": str(uuid.uuid4()), "payment_method": "card"}
    charges = [
        await api.client.post("/api/v1/payments/charge", json=charge, headers=bearer(strict_key))
        for _ in range(2)
    ]
    assert charges[0].status_code != 429
    assert charges[0].headers["RateLimit-Limit"] == "1"
    assert_rate_limited(charges[1], retry_after="1")
    assert (await api.client.get(WHOAMI, headers=bearer(strict_key))).status_code == 200


async def test_two_instances_sharing_redis_share_one_count(make_api: MakeApi) -> None:
    shared = {
        "redis_url": TEST_REDIS_URL,
        "rate_limit_redis_prefix": unique_prefix(),
        "rate_limit_per_second": 1,
        "rate_limit_burst": 4,
    }
    one, two = await make_api(**shared), await make_api(**shared)
    frozen(one, two)
    _, key = await one.tenant("acme")

    answers = [
        await node.client.get(WHOAMI, headers=bearer(key)) for node in (one, two, one, two, one)
    ]

    assert [a.headers.get("RateLimit-Remaining") for a in answers[:4]] == ["3", "2", "1", "0"]
    assert_rate_limited(answers[4], retry_after="1")
    assert_rate_limited(await two.client.get(WHOAMI, headers=bearer(key)), retry_after="1")

    # failed authentications from one address add up across the nodes too
    for i in range(60):
        node = (one, two)[i % 2]
        assert (await node.client.get(WHOAMI, headers=bearer(f"ck_live_{i}"))).status_code == 401
    assert (await one.client.get(WHOAMI, headers=bearer("ck_live_61"))).status_code == 429


async def test_without_redis_each_instance_counts_alone(make_api: MakeApi) -> None:
    one = await make_api(rate_limit_per_second=1, rate_limit_burst=1)
    two = await make_api(rate_limit_per_second=1, rate_limit_burst=1)
    frozen(one, two)
    _, key = await one.tenant("acme")

    assert (await one.client.get(WHOAMI, headers=bearer(key))).status_code == 200
    assert (await one.client.get(WHOAMI, headers=bearer(key))).status_code == 429
    assert (await two.client.get(WHOAMI, headers=bearer(key))).status_code == 200


async def test_an_unreachable_redis_lets_requests_through_uncounted(make_api: MakeApi) -> None:
    api = await make_api(
        redis_url="redis://127.0.0.1:9/0", rate_limit_per_second=1, rate_limit_burst=1
    )
    _, key = await api.tenant("acme")

    answers = [await api.client.get(WHOAMI, headers=bearer(key)) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert "RateLimit-Limit" not in answers[0].headers
    assert (await api.client.get(WHOAMI, headers=bearer("ck_live_bad"))).status_code == 401


async def test_concurrent_requests_on_two_nodes_never_exceed_the_burst(make_api: MakeApi) -> None:
    shared = {
        "redis_url": TEST_REDIS_URL,
        "rate_limit_redis_prefix": unique_prefix(),
        "rate_limit_per_second": 1,
        "rate_limit_burst": 5,
    }
    one, two = await make_api(**shared), await make_api(**shared)
    frozen(one, two)
    _, key = await one.tenant("acme")

    answers = await asyncio.gather(
        *(node.client.get(WHOAMI, headers=bearer(key)) for node in [one, two] * 10)
    )

    assert sorted(a.status_code for a in answers) == [200] * 5 + [429] * 15


async def test_malformed_credentials_count_as_failures_and_never_fail_the_server(
    make_api: MakeApi,
) -> None:
    api = await make_api(auth_failures_per_minute=3)
    frozen(api)
    garbage = [
        httpx.Headers({"Authorization": "Bearer ck_live_" + "x" * 5_000}),
        httpx.Headers({b"Authorization": "Bearer ck_live_\u00e9t\u00e9".encode()}),
        httpx.Headers({"Authorization": "Bearer not-even-a-key"}),
    ]

    async with client_at(api, "127.0.0.9") as client:
        answers = [await client.get(WHOAMI, headers=h) for h in garbage]
        assert [a.status_code for a in answers] == [401, 401, 401]
        assert_rate_limited(await client.get(WHOAMI, headers=garbage[2]), retry_after="20")
        # a scheme that is not Bearer presents no key: not counted, still 401
        basic = await client.get(WHOAMI, headers={"Authorization": "Basic YTpi"})
        assert basic.status_code == 401
