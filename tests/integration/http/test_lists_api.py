"""The list routes over HTTP on PostgreSQL: GET /customers (email, tag, segment),
GET /customers/segments/{name}, GET /products and GET /payments; and the addresses
of GET /orders/{id} and its history (issue 13, items 3 and 4)."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commerce_core.eventstore import START, Position
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.projection_ops import build_projection_ops
from tests.integration.http.conftest import Api
from tests.integration.http.test_orders_api import ADDRESS, Shop

LISTS = ("customer_list", "product_list", "payment_list", "customer_metrics", "order_list")
PROBLEM = "https://commerce-core.dev/problems/"


async def settled(api: Api) -> None:
    """Waits until the list projections have applied every event appended so far.

    The store's ``head`` stops at the horizon, which other tests' open transactions on
    the same server hold back; the last event appended is what the lists must reach.
    """
    pool = api.container.pool()
    assert pool is not None
    row = await pool.fetchrow(
        "SELECT tx_id, global_position FROM events ORDER BY global_position DESC LIMIT 1"
    )
    head = Position(row[0], row[1]) if row else START
    async with asyncio.timeout(10):
        for name in LISTS:
            await api.app.state.projections.wait_for(name, head)


async def walk(shop: Shop, path: str, limit: int) -> list[dict[str, Any]]:
    """Every item of a list, page after page."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    separator = "&" if "?" in path else "?"
    for _ in range(100):
        url = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = await shop.call("GET", url)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


async def register(shop: Shop, email: str, **fields: Any) -> str:
    created = await shop.call("POST", "/customers", {"email": email, **fields})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_customers_are_found_by_email_and_tag_until_erased(api: Api) -> None:
    _, key = await api.tenant("shop")
    _, other_key = await api.tenant("other")
    shop, other = Shop(api, key), Shop(api, other_key)
    ada = await register(shop, "ada@example.com", name="Ada", tags=["vip", "wholesale"])
    bob = await register(shop, "bob@example.com", tags=["wholesale"])
    await register(other, "ada@example.com", name="Other Ada", tags=["wholesale"])
    await settled(api)

    found = (await shop.call("GET", "/customers?email=ADA@Example.com")).json()["items"]
    assert [(c["id"], c["name"], c["email"], c["tags"]) for c in found] == [
        (ada, "Ada", "ada@example.com", ["vip", "wholesale"])
    ]
    tagged = (await shop.call("GET", "/customers?tag=Wholesale")).json()["items"]
    assert [c["id"] for c in tagged] == [ada, bob]
    both = (await shop.call("GET", "/customers?tag=wholesale&email=bob@example.com")).json()
    assert [c["id"] for c in both["items"]] == [bob]
    assert (await shop.call("GET", "/customers?tag=nobody")).json()["items"] == []

    assert (await shop.call("DELETE", f"/customers/{ada}")).status_code == 204
    await settled(api)
    assert (await shop.call("GET", "/customers?email=ada@example.com")).json()["items"] == []
    assert (await shop.call("GET", "/customers?tag=vip")).json()["items"] == []
    tagged = (await shop.call("GET", "/customers?tag=wholesale")).json()["items"]
    assert [c["id"] for c in tagged] == [bob]
    everyone = {c["id"]: c for c in (await shop.call("GET", "/customers")).json()["items"]}
    assert set(everyone) == {ada, bob}  # the other tenant's Ada never appears
    erased = everyone[ada]
    assert (erased["status"], erased["name"], erased["email"], erased["tags"]) == (
        "erased",
        None,
        None,
        [],
    )


async def test_tags_changed_by_a_patch_are_found_by_their_new_value_only(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    ada = await register(shop, "ada@example.com", tags=["old"])
    patched = await shop.call("PATCH", f"/customers/{ada}", {"tags": ["new"]})
    assert patched.status_code == 200, patched.text
    await settled(api)
    assert (await shop.call("GET", "/customers?tag=old")).json()["items"] == []
    assert [c["id"] for c in (await shop.call("GET", "/customers?tag=new")).json()["items"]] == [
        ada
    ]


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(count=st.integers(0, 7), limit=st.integers(1, 4))
async def test_pages_give_every_customer_and_product_once(api: Api, count: int, limit: int) -> None:
    _, key = await api.tenant(f"shop-{count}-{limit}-{id(object())}")
    shop = Shop(api, key)
    ids = [await register(shop, f"c{n}@example.com") for n in range(count)]
    skus = [f"SKU-{n}" for n in range(count)]
    for sku in reversed(skus):
        put = await shop.call(
            "PUT", f"/products/{sku}", {"name": sku, "price": {"amount": 100, "currency": "USD"}}
        )
        assert put.status_code == 200, put.text
    await settled(api)

    customers = await walk(shop, "/customers", limit)
    assert [c["id"] for c in customers] == ids  # oldest first, none twice, none missing
    products = await walk(shop, "/products", limit)
    assert [p["sku"] for p in products] == sorted(skus)
    assert all(p["price"] == {"amount": 100, "currency": "USD"} for p in products)


async def test_payments_are_listed_filtered_and_per_tenant(api: Api) -> None:
    _, key = await api.tenant("shop")
    _, other_key = await api.tenant("other")
    shop, other = Shop(api, key), Shop(api, other_key)
    await shop.stock_product("MUG-1", 1000, 50)
    await other.stock_product("MUG-1", 1000, 50)
    payments = []
    for s in (shop, shop, other):
        placed = await s.order(("MUG-1", 1))
        assert placed.status_code == 201, placed.text
        body = {
            "order_id": placed.json()["id"],
            "payment_method": {"type": "card", "token": "tok_visa"},
        }
        authorized = await s.call("POST", "/payments/authorize", body)
        assert authorized.status_code == 201, authorized.text
        payments.append(authorized.json())
    captured = await shop.call("POST", f"/payments/{payments[0]['id']}/capture", {})
    assert captured.status_code == 200, captured.text
    await settled(api)

    listed = await walk(shop, "/payments", 1)
    assert [p["id"] for p in listed] == [payments[1]["id"], payments[0]["id"]]  # newest first
    assert listed[1]["status"] == "captured"
    assert listed[1]["captured"] == captured.json()["captured"]
    by_status = (await shop.call("GET", "/payments?status=authorized")).json()["items"]
    assert [p["id"] for p in by_status] == [payments[1]["id"]]
    by_order = await shop.call("GET", f"/payments?order_id={payments[0]['order_id']}")
    assert [p["id"] for p in by_order.json()["items"]] == [payments[0]["id"]]
    later = await shop.call("GET", "/payments?created_from=2999-01-01T00:00:00Z")
    assert later.json()["items"] == []
    theirs = (await other.call("GET", "/payments")).json()["items"]
    assert [p["id"] for p in theirs] == [payments[2]["id"]]


async def test_a_segment_lists_its_members_as_the_analytics_do(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    await shop.stock_product("BIG-1", 20_000, 5)
    placed = await shop.order(("BIG-1", 1))
    assert placed.status_code == 201, placed.text
    body = {
        "order_id": placed.json()["id"],
        "payment_method": {"type": "card", "token": "tok_visa"},
    }
    charged = await shop.call("POST", "/payments/charge", body)
    assert charged.status_code == 201, charged.text
    customer_id = placed.json()["customer_id"]
    await settled(api)

    analytics = (await shop.call("GET", f"/customers/{customer_id}/analytics")).json()
    assert analytics["segments"] == ["high_value_new"]
    segment = (await shop.call("GET", "/customers/segments/high_value_new")).json()
    assert segment["name"] == "high_value_new"
    [member] = segment["items"]
    assert (member["id"], member["segments"], member["total_orders"]) == (
        customer_id,
        ["high_value_new"],
        1,
    )
    filtered = (await shop.call("GET", "/customers?segment=high_value_new")).json()["items"]
    assert [c["id"] for c in filtered] == [customer_id]
    assert (await shop.call("GET", "/customers/segments/vip")).json()["items"] == []
    assert (await shop.call("GET", "/customers?segment=at_risk")).json()["items"] == []


async def test_lists_refuse_bad_queries_and_wrong_roles(api: Api) -> None:
    tenant, key = await api.tenant("shop")
    shop = Shop(api, key)
    service = Shop(api, await api.key(tenant, Role.SERVICE))
    staff = Shop(api, await api.key(tenant, Role.STAFF))
    for path in ("/customers", "/customers/segments/vip", "/customers?email=a@b.co"):
        refused = await service.call("GET", path)
        assert refused.status_code == 403, path
        assert (await staff.call("GET", path)).status_code == 200, path
    for path in ("/products", "/payments"):
        assert (await service.call("GET", path)).status_code == 200, path

    for path in (
        "/customers?limit=0",
        "/customers?limit=201",
        "/customers?limit=x",
        "/customers?cursor=not-a-cursor",
        "/customers?cursor=WyJ4Il0",  # base64 JSON of the wrong shape
        "/customers?segment=whales",
        "/customers?email=not-an-email",
        "/customers?tag=%20",
        "/customers/segments/vip?cursor=%%%",
        "/products?cursor=e30",
        "/products?limit=-1",
        "/payments?status=lost",
        "/payments?order_id=nope",
        "/payments?created_from=2026-05-02T00:00:00Z&created_to=2026-05-01T00:00:00Z",
        "/payments?created_from=yesterday",
        "/payments?cursor=AAAA",
    ):
        answer = await shop.call("GET", path)
        assert answer.status_code == 422, (path, answer.status_code, answer.text)
        assert answer.json()["type"] == PROBLEM + "validation-error", path
    unknown = await shop.call("GET", "/customers/segments/whales")
    assert unknown.status_code == 404
    assert "vip" in unknown.json()["detail"]


async def test_a_rebuild_gives_the_same_rows(api: Api) -> None:
    _, key = await api.tenant("shop")
    shop = Shop(api, key)
    await register(shop, "ada@example.com", tags=["vip"])
    await shop.stock_product("MUG-1", 1000, 5)
    await settled(api)
    before = [
        (await shop.call("GET", path)).json() for path in ("/customers", "/products", "/payments")
    ]
    ops = build_projection_ops(api.container)
    for name in ("customer_list", "product_list", "payment_list"):
        assert await ops.verify(name) == [], name
    for name in ("customer_list", "product_list", "payment_list"):
        await ops.rebuild(name)
    after = [
        (await shop.call("GET", path)).json() for path in ("/customers", "/products", "/payments")
    ]
    assert after == before


async def test_order_addresses_show_to_people_only_and_go_with_the_erasure(api: Api) -> None:
    tenant, key = await api.tenant("shop")
    shop = Shop(api, key)
    service = Shop(api, await api.key(tenant, Role.SERVICE))
    staff = Shop(api, await api.key(tenant, Role.STAFF))
    await shop.stock_product("MUG-1", 1000, 5)
    billing = {**ADDRESS, "line1": "1 Bill Street"}
    placed = await shop.order(("MUG-1", 1), billing_address=billing)
    assert placed.status_code == 201, placed.text
    order_id, customer_id = placed.json()["id"], placed.json()["customer_id"]
    url = f"/orders/{order_id}"

    for people in (shop, staff):
        shown = (await people.call("GET", url)).json()
        assert shown["shipping_address"]["line1"] == ADDRESS["line1"]
        assert shown["billing_address"]["line1"] == "1 Bill Street"
    machine = (await service.call("GET", url)).json()
    assert (machine["shipping_address"], machine["billing_address"]) == (None, None)

    history = (await shop.call("GET", f"{url}/history")).json()
    [placed_event] = [e for e in history["events"] if e["type"] == "Order.Placed"]
    assert placed_event["data"]["shipping_address"] == "given"
    assert placed_event["data"]["billing_address"] == "given"
    assert ADDRESS["line1"] not in str(history)
    assert "ciphertext" not in str(history)

    await settled(api)  # the export finds the orders in the order list, which may lag
    export = (await shop.call("GET", f"/customers/{customer_id}/export")).json()
    assert export["orders"][0]["billing_address"]["line1"] == "1 Bill Street"

    assert (await shop.call("DELETE", f"/customers/{customer_id}")).status_code == 204
    erased = (await shop.call("GET", url)).json()
    assert (erased["shipping_address"], erased["billing_address"]) == (None, None)
    history = (await shop.call("GET", f"{url}/history")).json()
    [placed_event] = [e for e in history["events"] if e["type"] == "Order.Placed"]
    assert placed_event["data"]["shipping_address"] == "given"
