"""Attribution over HTTP on PostgreSQL: POST /orders records UTM attribution, the order shows
it, and GET /analytics/attribution groups a seeded mix of channels and sources (issue 15)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from commerce_core.eventstore import START, Position
from commerce_core.tenancy.ports.tenants import Role
from tests.integration.http.conftest import Api, bearer
from tests.integration.http.test_channel_imports_api import sale
from tests.integration.http.test_orders_api import PROBLEM, Shop, shop

GOOGLE = {"source": "google", "medium": "cpc", "campaign": "spring"}


async def settled(api: Api) -> None:
    """Waits until the attribution projection has applied every event appended so far."""
    pool = api.container.pool()
    assert pool is not None
    row = await pool.fetchrow(
        "SELECT tx_id, global_position FROM events ORDER BY global_position DESC LIMIT 1"
    )
    head = Position(row[0], row[1]) if row else START
    async with asyncio.timeout(10):
        await api.app.state.projections.wait_for("order_attribution", head)


async def paid_web_order(s: Shop, quantity: int, attribution: dict[str, Any] | None) -> str:
    extra = {} if attribution is None else {"attribution": attribution}
    placed = await s.order(("MUG-1", quantity), payment_method="card", channel="web", **extra)
    assert placed.status_code == 201, placed.text
    oid = str(placed.json()["id"])
    body = {"order_id": oid, "payment_method": {"type": "card", "token": "tok_visa"}}
    charged = await s.call("POST", "/payments/charge", body)
    assert charged.status_code == 201, charged.text
    return oid


async def seeded(api: Api, slug: str = "shop") -> Shop:
    """Web orders from Google (two, one refunded in part) and a newsletter, one without
    attribution, an Etsy import, a GBP import attributed to its location. Mugs are 10.00
    + 10 % tax; web orders ship standard (5.00)."""
    s = await shop(api, slug)
    await s.stock_product("MUG-1", 1000, 50)
    await paid_web_order(s, 1, GOOGLE)
    refunded = await paid_web_order(s, 2, {**GOOGLE, "campaign": "summer"})
    refund = await s.call("POST", f"/orders/{refunded}/refund", {"amount": 700, "reason": "chip"})
    assert refund.status_code == 201, refund.text
    await paid_web_order(s, 1, {"source": "newsletter", "medium": "email"})
    await paid_web_order(s, 1, None)
    etsy = await s.call(
        "POST", "/channels/etsy/orders", sale("E-1", 3, attribution={"source": "etsy"})
    )
    assert etsy.status_code == 201, etsy.text
    gbp = sale("G-1", 1, attribution={"gbp_location_id": "locations/1"})
    assert (await s.call("POST", "/channels/gbp/orders", gbp)).status_code == 201
    await settled(api)
    return s


def groups(answer: Any) -> dict[str, tuple[int, int, int, float]]:
    return {
        g["group"]: (g["orders"], g["revenue"], g["average_order_value"], g["refund_rate"])
        for g in answer.json()["groups"]
    }


async def test_an_order_shows_its_attribution_and_its_history_records_it(api: Api) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)
    placed = await s.order(("MUG-1", 1), attribution={**GOOGLE, "referrer": "https://g.co/"})
    assert placed.status_code == 201, placed.text
    oid = placed.json()["id"]

    shown = (await s.call("GET", f"/orders/{oid}")).json()
    history = (await s.call("GET", f"/orders/{oid}/history")).json()

    assert shown["attribution"]["source"] == "google"
    assert shown["attribution"]["referrer"] == "https://g.co/"
    assert shown["imported"] is None
    assert history["events"][0]["data"]["attribution"]["campaign"] == "spring"
    assert history["state"]["attribution"]["medium"] == "cpc"


async def test_attribution_analytics_group_a_mix_of_channels_and_sources(api: Api) -> None:
    s = await seeded(api)
    other = await shop(api, "other")
    await other.stock_product("MUG-1", 1000, 5)
    await paid_web_order(other, 1, GOOGLE)
    now = datetime.now(UTC)
    # the imports were placed two hours ago (``sale``): yesterday, just after midnight
    days = f"from={(now - timedelta(hours=3)).date().isoformat()}&to={now.date().isoformat()}"

    by_source = await s.call("GET", f"/analytics/attribution?{days}")
    by_channel = await s.call("GET", f"/analytics/attribution?{days}&group_by=channel")
    by_campaign = await s.call("GET", "/analytics/attribution?group_by=campaign")

    assert by_source.status_code == 200, by_source.text
    # a web order of one mug: 1100 + standard shipping 599 (tax included); of two: 2799
    assert groups(by_source) == {
        "google": (2, 1699 + 2799 - 700, 1899, round(700 / (1699 + 2799), 4)),
        "etsy": (1, 3300, 3300, 0.0),
        "newsletter": (1, 1699, 1699, 0.0),
        "(none)": (2, 1699 + 1100, 1400, 0.0),  # 1399.5 rounds half to even
    }
    assert by_source.json()["group_by"] == "source"
    assert (by_source.json()["orders"], by_source.json()["revenue"]) == (
        6,
        3798 + 3300 + 1699 + 2799,
    )
    web = 3 * 1699 + 2799
    assert groups(by_channel) == {
        "web": (4, web - 700, (web - 700) // 4, round(700 / web, 4)),
        "etsy": (1, 3300, 3300, 0.0),
        "gbp": (1, 1100, 1100, 0.0),
    }
    assert {g: v[0] for g, v in groups(by_campaign).items()} == {
        "spring": 1,
        "summer": 1,
        "(none)": 4,
    }


async def test_attribution_analytics_answer_every_tenant_role_and_refuse_bad_queries(
    api: Api,
) -> None:
    tenant, admin = await api.tenant("shop")
    for role in (Role.STAFF, Role.SERVICE):
        key = bearer(await api.key(tenant, role))
        answer = await api.client.get("/api/v1/analytics/attribution", headers=key)
        assert answer.status_code == 200, answer.text
        assert answer.json()["groups"] == []
    s = Shop(api, admin)
    for query in ("group_by=country", "from=2026-05-06&to=2026-05-01", "from=yesterday"):
        refused = await s.call("GET", f"/analytics/attribution?{query}")
        assert refused.status_code == 422, (query, refused.text)
        assert refused.json()["type"] == PROBLEM + "validation-error"


@pytest.mark.parametrize(
    "attribution",
    [
        {"source": "x" * 201},
        {"landing_page": "https://shop.example/" + "x" * 2000},
        {"campaign": ""},
        {"medium": "cpc\u0000"},
        {"source": 7},
        {"utm_source": "google"},
        ["google"],
    ],
)
async def test_a_malformed_attribution_is_refused_and_places_nothing(
    api: Api, attribution: Any
) -> None:
    s = await shop(api)
    await s.stock_product("MUG-1", 1000, 5)

    refused = await s.order(("MUG-1", 1), attribution=attribution)

    assert refused.status_code == 422, refused.text
    assert refused.json()["type"] == PROBLEM + "validation-error"
    assert (await s.call("GET", "/inventory/MUG-1")).json()["reserved"] == 0


async def test_the_read_model_of_one_tenant_never_shows_another_tenants_orders(api: Api) -> None:
    await seeded(api, "ours")
    theirs = await shop(api, "theirs")
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()

    answer = await theirs.call("GET", f"/analytics/attribution?from={since}")

    assert answer.status_code == 200, answer.text
    assert (answer.json()["orders"], answer.json()["groups"]) == (0, [])
