"""Tenant settings over HTTP on PostgreSQL (issue 13, ADR 0024).

``GET/PATCH /admin/settings`` and ``GET /admin/settings/history`` are an admin's; each
change is a ``TenantSettingsChanged`` event with who and when, and applies to the next
request (orders hold stock for the new time, refunds wait above the new threshold).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx
import pytest

from commerce_core.tenancy.ports.tenants import Grant, Role
from tests.integration.http.conftest import Api
from tests.integration.http.test_orders_api import PROBLEM, Shop
from tests.integration.http.test_refund_approvals_api import actor, paid_order, team


async def admin_and_staff(api: Api, slug: str = "shop") -> tuple[Shop, Shop, Shop]:
    tenant, key = await api.tenant(slug)
    staff = Shop(api, await api.key(tenant, Role.STAFF))
    service = Shop(api, await api.key(tenant, Role.SERVICE, frozenset({Grant.REFUNDS})))
    return Shop(api, key), staff, service


def problem_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, str(response.json()["type"]).removeprefix(PROBLEM)


async def settings(shop: Shop) -> dict[str, Any]:
    shown = await shop.call("GET", "/admin/settings")
    assert shown.status_code == 200, shown.text
    return dict(shown.json())


async def history(shop: Shop, query: str = "") -> dict[str, Any]:
    listed = await shop.call("GET", f"/admin/settings/history{query}")
    assert listed.status_code == 200, listed.text
    return dict(listed.json())


async def test_an_admin_reads_and_changes_the_settings_and_the_change_is_recorded(
    api: Api,
) -> None:
    admin, _, _ = await admin_and_staff(api)
    before = await settings(admin)
    assert before["reservation_minutes"] == 30
    assert before["version"] == 0
    assert before["updated_by"] is None

    changed = await admin.call(
        "PATCH",
        "/admin/settings",
        {"reservation_minutes": 45, "segment_rules": {"vip_min_orders": 5}},
    )

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["reservation_minutes"] == 45
    assert body["segment_rules"]["vip_min_orders"] == 5
    assert body["segment_rules"]["at_risk_after_days"] == 90  # merged, not replaced
    assert body["updated_by"] == await actor(admin)
    assert changed.headers["ETag"] == f'"{body["version"]}"'
    assert await settings(admin) == body
    [entry] = (await history(admin))["items"]
    assert (entry["actor"], entry["role"], entry["version"]) == (
        await actor(admin),
        "admin",
        body["version"],
    )
    assert entry["at"] == body["updated_at"]
    assert entry["changes"] == [
        {"field": "reservation_minutes", "old": 30, "new": 45},
        {"field": "segment_rules.vip_min_orders", "old": 10, "new": 5},
    ]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/settings"),
        ("PATCH", "/admin/settings"),
        ("GET", "/admin/settings/history"),
    ],
)
async def test_staff_service_and_operator_keys_are_refused(
    api: Api, method: str, path: str
) -> None:
    admin, staff, service = await admin_and_staff(api)
    operator = Shop(api, await api.operator_key())

    for shop in (staff, service, operator):
        answer = await shop.call(method, path, {"reservation_minutes": 5})
        assert problem_of(answer) == (403, "forbidden"), answer.text
    assert (await settings(admin))["version"] == 0


async def test_another_tenants_change_is_neither_seen_nor_felt(api: Api) -> None:
    a, _, _ = await admin_and_staff(api, "shop-a")
    b, _, _ = await admin_and_staff(api, "shop-b")

    changed = await a.call("PATCH", "/admin/settings", {"refund_approval_threshold": 7})
    assert changed.status_code == 200, changed.text

    shown = await settings(b)
    assert (shown["refund_approval_threshold"], shown["version"]) == (100_000, 0)
    assert (await history(b))["items"] == []


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"colour": "red"}, "colour"),
        ({"segment_rules": {"colour": 1}}, "segment_rules.colour"),
        ({"reservation_minutes": "45"}, "reservation_minutes"),
        ({"reservation_minutes": 0}, "reservation_minutes"),
        ({"reservation_minutes": 10081}, "reservation_minutes"),
        ({"refund_approval_threshold": 2**53 - 1}, "refund_approval_threshold"),
        ({"refund_approval_threshold": 2**60}, "refund_approval_threshold"),
        ({"auto_cancel_unpaid_hours": 1.5}, "auto_cancel_unpaid_hours"),
        ({"default_currency": "usd"}, "default_currency"),
        ({"default_currency": "XYZ"}, "default_currency"),
        ({"accepted_currencies": ["EUR"]}, "default_currency"),
        ({"accepted_currencies": ["EUR"] * 33}, "accepted_currencies"),
        ({"segment_rules": {"new_customer_days": -1}}, "segment_rules.new_customer_days"),
        ({"rate_limits": {"checkout_per_minute": 1}}, "rate_limits"),
        ({"fee_tier": "enterprise"}, "fee_tier"),
    ],
)
async def test_an_invalid_patch_is_422_naming_the_field_and_changes_nothing(
    api: Api, body: dict[str, Any], key: str
) -> None:
    admin, _, _ = await admin_and_staff(api)

    answer = await admin.call("PATCH", "/admin/settings", body)

    assert problem_of(answer) == (422, "validation-error"), answer.text
    assert [e["key"] for e in answer.json()["errors"]] == [key]
    shown = await settings(admin)
    assert (shown["version"], shown["reservation_minutes"]) == (0, 30)
    assert (await history(admin))["items"] == []


async def test_a_patch_that_changes_nothing_records_nothing(api: Api) -> None:
    admin, _, _ = await admin_and_staff(api)
    await admin.call("PATCH", "/admin/settings", {"auto_cancel_unpaid_hours": 48})

    no_ops: list[dict[str, Any]] = [{}, {"auto_cancel_unpaid_hours": 48}, {"segment_rules": {}}]
    for body in no_ops:
        answer = await admin.call("PATCH", "/admin/settings", body)
        assert answer.status_code == 200, answer.text

    assert len((await history(admin))["items"]) == 1


async def test_a_retried_patch_with_its_idempotency_key_acts_once(api: Api) -> None:
    admin, _, _ = await admin_and_staff(api)
    body = {"reservation_minutes": 5}

    first = await admin.call("PATCH", "/admin/settings", body, **{"Idempotency-Key": "s-1"})
    again = await admin.call("PATCH", "/admin/settings", body, **{"Idempotency-Key": "s-1"})

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len((await history(admin))["items"]) == 1


async def test_concurrent_patches_of_different_fields_are_all_applied(api: Api) -> None:
    admin, _, _ = await admin_and_staff(api)
    patches = [
        {"reservation_minutes": 5},
        {"auto_cancel_unpaid_hours": 2},
        {"refund_approval_threshold": 3},
        {"segment_rules": {"vip_min_orders": 4}},
        {"segment_rules": {"at_risk_after_days": 6}},
    ]

    answers = await asyncio.gather(*(admin.call("PATCH", "/admin/settings", p) for p in patches))

    assert [a.status_code for a in answers] == [200] * len(patches), [a.text for a in answers]
    shown = await settings(admin)
    assert shown["reservation_minutes"] == 5
    assert shown["auto_cancel_unpaid_hours"] == 2
    assert shown["refund_approval_threshold"] == 3
    assert shown["segment_rules"]["vip_min_orders"] == 4
    assert shown["segment_rules"]["at_risk_after_days"] == 6
    entries = (await history(admin))["items"]
    assert len(entries) == len(patches)
    assert [e["version"] for e in entries] == sorted((e["version"] for e in entries), reverse=True)


async def test_if_match_refuses_a_change_based_on_an_old_version(api: Api) -> None:
    admin, _, _ = await admin_and_staff(api)
    etag = (await admin.call("GET", "/admin/settings")).headers["ETag"]
    first = await admin.call(
        "PATCH", "/admin/settings", {"reservation_minutes": 5}, **{"If-Match": etag}
    )
    assert first.status_code == 200, first.text

    stale = await admin.call(
        "PATCH", "/admin/settings", {"auto_cancel_unpaid_hours": 2}, **{"If-Match": etag}
    )
    garbled = await admin.call(
        "PATCH", "/admin/settings", {"auto_cancel_unpaid_hours": 2}, **{"If-Match": "soon"}
    )

    assert problem_of(stale) == (409, "concurrency-conflict"), stale.text
    assert problem_of(garbled) == (422, "validation-error"), garbled.text
    shown = await settings(admin)
    assert (shown["reservation_minutes"], shown["auto_cancel_unpaid_hours"]) == (5, 24)


async def test_the_history_is_paginated_newest_first(api: Api) -> None:
    admin, _, _ = await admin_and_staff(api)
    for minutes in (1, 2, 3):
        await admin.call("PATCH", "/admin/settings", {"reservation_minutes": minutes})

    first = await history(admin, "?limit=2")
    rest = await history(admin, f"?limit=2&cursor={first['next_cursor']}")
    bad = await admin.call("GET", "/admin/settings/history?cursor=abc")

    news = [e["changes"][0]["new"] for e in first["items"] + rest["items"]]
    assert news == [3, 2, 1]
    assert rest["next_cursor"] is None
    assert problem_of(bad) == (422, "validation-error")


async def test_a_changed_reservation_time_is_used_by_the_next_order(api: Api) -> None:
    admin, staff, _ = await admin_and_staff(api)
    await admin.stock_product("MUG-1", 1000, 10)

    await admin.call("PATCH", "/admin/settings", {"reservation_minutes": 90})
    placed = await staff.order(("MUG-1", 1))

    assert placed.status_code == 201, placed.text
    order = placed.json()
    held = datetime.fromisoformat(order["reservation_expires_at"]) - datetime.fromisoformat(
        order["created_at"]
    )
    assert held.total_seconds() == 90 * 60


async def test_orders_without_a_currency_take_the_default_and_others_are_refused(
    api: Api,
) -> None:
    admin, staff, _ = await admin_and_staff(api)
    put = await admin.call(
        "PUT", "/products/MUG-EU", {"name": "Mug", "price": {"amount": 900, "currency": "EUR"}}
    )
    assert put.status_code == 200, put.text
    await admin.call("POST", "/inventory/MUG-EU/receipts", {"quantity": 5})
    changed = await admin.call(
        "PATCH", "/admin/settings", {"default_currency": "EUR", "accepted_currencies": ["EUR"]}
    )
    assert changed.status_code == 200, changed.text

    body = {"customer": {"email": "ada@example.com"}, "lines": [{"sku": "MUG-EU", "quantity": 1}]}
    placed = await staff.call("POST", "/orders", body)
    in_usd = await staff.call("POST", "/orders", {**body, "currency": "USD"})

    assert placed.status_code == 201, placed.text
    assert placed.json()["currency"] == "EUR"
    assert problem_of(in_usd) == (422, "validation-error"), in_usd.text
    assert "EUR" in in_usd.json()["detail"]
    assert await staff.available("MUG-EU") == 4


async def test_a_lowered_refund_threshold_holds_the_next_staff_refund_for_approval(
    api: Api,
) -> None:
    t = await team(api)
    oid, _ = await paid_order(t.admin)
    refund = {"amount": 2_000, "reason": "scratched"}
    direct = await t.staff.call("POST", f"/orders/{oid}/refund", refund)
    assert direct.json()["status"] == "succeeded", direct.text

    changed = await t.admin.call("PATCH", "/admin/settings", {"refund_approval_threshold": 3_000})
    assert changed.status_code == 200, changed.text
    held = await t.staff.call("POST", f"/orders/{oid}/refund", refund)

    assert held.status_code == 201, held.text
    assert held.json()["status"] == "pending_approval"
