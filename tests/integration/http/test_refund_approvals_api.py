"""Refund approvals over HTTP on PostgreSQL (issue 12, ADR 0020).

A staff (or service) key's refunds that take an order's refunds, cumulatively, above
the tenant's threshold (100,000 by default) wait as ``pending_approval``, with no
gateway call, until an admin approves (the refund runs once) or rejects them.
The test gateway's own books (``test_gateway_refunds``) say what money moved.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from adapters.postgres.fake_gateway import PostgresFakeGateway
from commerce_core.tenancy.ports.tenants import Grant, Role
from tests.integration.http.conftest import Api
from tests.integration.http.test_orders_api import PROBLEM, Shop

CARD = {"type": "card", "token": "tok_visa"}
THRESHOLD = 100_000  # the tenant setting's default


class Team:
    """One tenant's admin, staff and service keys, and a product worth 200,000."""

    def __init__(self, admin: Shop, staff: Shop, service: Shop) -> None:
        self.admin, self.staff, self.service = admin, staff, service


async def team(api: Api, slug: str = "shop") -> Team:
    tenant, admin_key = await api.tenant(slug)
    admin = Shop(api, admin_key)
    staff = Shop(api, await api.key(tenant, Role.STAFF))
    # a machine client that may refund at all (ADR 0019): its refunds wait for approval too
    service = Shop(api, await api.key(tenant, Role.SERVICE, frozenset({Grant.REFUNDS})))
    await admin.stock_product("TV-1", 200_000, 20)
    return Team(admin, staff, service)


async def paid_order(shop: Shop) -> tuple[str, dict[str, Any]]:
    """A charged order of one TV-1 (more than 180,000 with tax); its id and payment."""
    order = (await shop.order(("TV-1", 1))).json()
    charged = await shop.call(
        "POST", "/payments/charge", {"order_id": order["id"], "payment_method": CARD}
    )
    assert charged.status_code == 201, charged.text
    return order["id"], charged.json()


async def gateway_refunds(api: Api, payment: dict[str, Any]) -> list[int]:
    """The amounts the test gateway refunded of this payment."""
    gateway = api.container.payment_gateway()
    assert isinstance(gateway, PostgresFakeGateway)
    made = await gateway.refunds_made()
    return [r.amount.amount for r in made if r.gateway_payment_id == payment["gateway_payment_id"]]


async def actor(shop: Shop) -> str:
    """How events name the key ``shop`` calls with."""
    principal = (await shop.call("GET", "/_test/whoami")).json()
    return f"key:{principal['key_id']}"


def slug(response: httpx.Response) -> str:
    return str(response.json()["type"]).removeprefix(PROBLEM)


async def listed(shop: Shop, query: str, count: int) -> list[dict[str, Any]]:
    """The refunds list once it shows ``count`` items (the read model follows within moments)."""
    items: list[dict[str, Any]] = []
    for _ in range(250):
        response = await shop.call("GET", f"/refunds{query}")
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if len(items) >= count:
            return items
        await asyncio.sleep(0.02)
    return items


async def test_three_staff_refunds_of_60000_the_second_and_third_wait_for_approval(
    api: Api,
) -> None:
    t = await team(api)
    oid, payment = await paid_order(t.admin)

    answers = [
        await t.staff.call("POST", f"/orders/{oid}/refund", {"amount": 60_000, "reason": "r"})
        for _ in range(3)
    ]

    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert [a.json()["status"] for a in answers] == [
        "succeeded",
        "pending_approval",
        "pending_approval",
    ]
    assert await gateway_refunds(api, payment) == [60_000]
    shown = (await t.staff.call("GET", f"/payments/{payment['id']}")).json()
    assert shown["refunded"] == 60_000
    order = (await t.staff.call("GET", f"/orders/{oid}")).json()
    assert order["totals"]["refunded"] == 60_000
    waiting = await listed(t.staff, "?status=pending_approval", 2)
    assert [(w["id"], w["amount"], w["order_id"]) for w in waiting] == [
        (answers[1].json()["id"], 60_000, oid),
        (answers[2].json()["id"], 60_000, oid),
    ]
    assert {w["status"] for w in waiting} == {"pending_approval"}
    first = (await t.staff.call("GET", "/refunds?status=pending_approval&limit=1")).json()
    assert [w["id"] for w in first["items"]] == [waiting[0]["id"]]
    cursor = first["next_cursor"]
    rest = (await t.staff.call("GET", f"/refunds?status=pending_approval&cursor={cursor}")).json()
    assert ([w["id"] for w in rest["items"]], rest["next_cursor"]) == ([waiting[1]["id"]], None)


async def test_a_payment_refund_by_a_service_key_counts_what_the_order_refunded_before(
    api: Api,
) -> None:
    t = await team(api)
    oid, payment = await paid_order(t.admin)
    done = await t.admin.call("POST", f"/orders/{oid}/refund", {"amount": 90_000})
    assert done.json()["status"] == "succeeded"

    small = await t.service.call("POST", f"/payments/{payment['id']}/refund", {"amount": 20_000})

    assert (small.status_code, small.json()["status"]) == (201, "pending_approval")
    assert await gateway_refunds(api, payment) == [90_000]


async def test_concurrent_staff_refunds_without_idempotency_key_never_both_run(api: Api) -> None:
    t = await team(api)
    oid, payment = await paid_order(t.admin)

    answers = await asyncio.gather(
        *(t.staff.call("POST", f"/orders/{oid}/refund", {"amount": 60_000}) for _ in range(4))
    )

    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["pending_approval"] * 3 + ["succeeded"]
    assert await gateway_refunds(api, payment) == [60_000]


async def test_an_admin_approves_and_the_refund_runs_once_even_when_approve_is_retried(
    api: Api,
) -> None:
    t = await team(api)
    oid, payment = await paid_order(t.admin)
    held = (await t.staff.call("POST", f"/orders/{oid}/refund", {"amount": 120_000})).json()
    assert held["status"] == "pending_approval"
    assert await gateway_refunds(api, payment) == []
    approve = f"/refunds/{held['id']}/approve"

    by_staff = await t.staff.call("POST", approve)
    by_service = await t.service.call("POST", approve)
    first = await t.admin.call("POST", approve, **{"Idempotency-Key": "approve-1"})
    retried = await t.admin.call("POST", approve, **{"Idempotency-Key": "approve-1"})
    again = await t.admin.call("POST", approve)

    assert (by_staff.status_code, slug(by_staff)) == (403, "forbidden")
    assert (by_service.status_code, slug(by_service)) == (403, "forbidden")
    assert first.status_code == 200, first.text
    assert first.json() == {**held, "status": "succeeded"}
    assert (retried.status_code, retried.json()) == (200, first.json())
    assert (again.status_code, slug(again)) == (409, "invalid-transition")
    assert await gateway_refunds(api, payment) == [120_000]
    order = (await t.staff.call("GET", f"/orders/{oid}")).json()
    assert (order["status"], order["totals"]["refunded"]) == ("partially_refunded", 120_000)
    [row] = await listed(t.staff, "?status=approved", 1)
    admin, staff = await actor(t.admin), await actor(t.staff)
    assert (row["id"], row["decided_by"], row["requested_by"]) == (held["id"], admin, staff)
    history = (await t.staff.call("GET", f"/orders/{oid}/history")).json()["events"]
    steps = [
        (e["type"], e["metadata"]["actor"])
        for e in history
        if e["type"] in ("Payment.RefundApprovalRequested", "Payment.RefundApproved")
    ]
    assert steps == [
        ("Payment.RefundApprovalRequested", staff),
        ("Payment.RefundApproved", admin),
    ]


async def test_concurrent_decisions_without_idempotency_key_decide_once(api: Api) -> None:
    t = await team(api)
    oid, payment = await paid_order(t.admin)
    first = (await t.staff.call("POST", f"/orders/{oid}/refund", {"amount": 120_000})).json()
    second = (await t.staff.call("POST", f"/orders/{oid}/refund", {"amount": 10_000})).json()

    approvals = await asyncio.gather(
        *(t.admin.call("POST", f"/refunds/{first['id']}/approve") for _ in range(4))
    )
    decisions = await asyncio.gather(
        t.admin.call("POST", f"/refunds/{second['id']}/approve"),
        t.admin.call("POST", f"/refunds/{second['id']}/reject", {"reason": "no"}),
    )

    assert sorted(a.status_code for a in approvals) == [200, 409, 409, 409]
    assert {slug(a) for a in approvals if a.status_code == 409} == {"invalid-transition"}
    assert sorted(d.status_code for d in decisions) == [200, 409]
    won = next(d for d in decisions if d.status_code == 200).json()["status"]
    expected = [120_000, 10_000] if won == "succeeded" else [120_000]
    assert sorted(await gateway_refunds(api, payment), reverse=True) == expected


async def test_a_rejected_refund_moves_no_money_and_cannot_be_approved(api: Api) -> None:
    t = await team(api)
    _, payment = await paid_order(t.admin)
    held = (
        await t.staff.call("POST", f"/payments/{payment['id']}/refund", {"amount": 150_000})
    ).json()
    reject = f"/refunds/{held['id']}/reject"

    no_reason = await t.admin.call("POST", reject, {})
    empty = await t.admin.call("POST", reject, {"reason": ""})
    unknown = await t.admin.call("POST", reject, {"reason": "no", "why": "x"})
    by_staff = await t.staff.call("POST", reject, {"reason": "mine"})
    rejected = await t.admin.call("POST", reject, {"reason": "not returned"})
    approve = await t.admin.call("POST", f"/refunds/{held['id']}/approve")
    twice = await t.admin.call("POST", reject, {"reason": "again"})

    for bad in (no_reason, empty, unknown):
        assert (bad.status_code, slug(bad)) == (422, "validation-error"), bad.text
    assert (by_staff.status_code, slug(by_staff)) == (403, "forbidden")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert (approve.status_code, slug(approve)) == (409, "invalid-transition")
    assert (twice.status_code, slug(twice)) == (409, "invalid-transition")
    assert await gateway_refunds(api, payment) == []
    shown = (await t.staff.call("GET", f"/payments/{payment['id']}")).json()
    assert (shown["status"], shown["refunded"]) == ("captured", 0)
    [row] = await listed(t.admin, "?status=rejected", 1)
    assert (row["id"], row["rejection"], row["decided_by"]) == (
        held["id"],
        "not returned",
        await actor(t.admin),
    )
    assert (await t.admin.call("GET", "/refunds?status=pending_approval")).json()["items"] == []


async def test_approving_after_the_money_went_back_otherwise_does_not_over_refund(
    api: Api,
) -> None:
    t = await team(api)
    oid, payment = await paid_order(t.admin)
    held = (await t.staff.call("POST", f"/orders/{oid}/refund", {"amount": 120_000})).json()
    everything = await t.admin.call("POST", f"/orders/{oid}/refund", {"reason": "all of it"})
    assert everything.json()["status"] == "succeeded"

    late = await t.admin.call("POST", f"/refunds/{held['id']}/approve")

    assert (late.status_code, slug(late)) == (409, "refund-exceeds-captured")
    assert await gateway_refunds(api, payment) == [payment["captured"]]
    still = await t.admin.call("POST", f"/refunds/{held['id']}/reject", {"reason": "done"})
    assert still.json()["status"] == "rejected"


async def test_a_staff_cancel_of_a_paid_order_above_the_threshold_waits_for_approval(
    api: Api,
) -> None:
    t = await team(api)
    oid, payment = await paid_order(t.admin)
    before = await t.admin.available("TV-1")

    cancelled = await t.staff.call("POST", f"/orders/{oid}/cancel", {"reason": "changed mind"})

    assert cancelled.status_code == 200, cancelled.text
    order = cancelled.json()
    assert (order["status"], order["totals"]["refunded"]) == ("cancelled", 0)
    assert await t.admin.available("TV-1") == before + 1  # the cancel itself stands
    assert await gateway_refunds(api, payment) == []
    [waiting] = await listed(t.admin, "?status=pending_approval", 1)
    assert (waiting["order_id"], waiting["amount"]) == (oid, payment["captured"])

    approved = await t.admin.call("POST", f"/refunds/{waiting['id']}/approve")

    assert (approved.status_code, approved.json()["status"]) == (200, "succeeded")
    assert await gateway_refunds(api, payment) == [payment["captured"]]
    after = (await t.admin.call("GET", f"/orders/{oid}")).json()
    assert (after["status"], after["totals"]["refunded"]) == ("cancelled", payment["captured"])


async def test_a_staff_status_change_to_cancelled_also_waits_for_approval(api: Api) -> None:
    t = await team(api)
    oid, payment = await paid_order(t.admin)

    changed = await t.staff.call("PATCH", f"/orders/{oid}", {"status": "cancelled"})

    assert (changed.status_code, changed.json()["status"]) == (200, "cancelled")
    assert await gateway_refunds(api, payment) == []
    [waiting] = await listed(t.admin, "?status=pending_approval", 1)
    assert waiting["order_id"] == oid


async def test_an_admin_refund_above_the_threshold_runs_directly(api: Api) -> None:
    t = await team(api)
    oid, payment = await paid_order(t.admin)

    big = await t.admin.call("POST", f"/orders/{oid}/refund", {"amount": 150_000})

    assert (big.status_code, big.json()["status"]) == (201, "succeeded")
    assert await gateway_refunds(api, payment) == [150_000]


async def test_another_tenant_can_neither_list_nor_decide(api: Api) -> None:
    mine = await team(api, "mine")
    theirs = await team(api, "theirs")
    oid, payment = await paid_order(mine.admin)
    held = (await mine.staff.call("POST", f"/orders/{oid}/refund", {"amount": 120_000})).json()
    await listed(mine.admin, "?status=pending_approval", 1)

    listing = await theirs.admin.call("GET", "/refunds?status=pending_approval")
    everything = await theirs.admin.call("GET", "/refunds")
    approve = await theirs.admin.call("POST", f"/refunds/{held['id']}/approve")
    reject = await theirs.admin.call("POST", f"/refunds/{held['id']}/reject", {"reason": "x"})

    assert (listing.status_code, listing.json()["items"]) == (200, [])
    assert everything.json()["items"] == []
    assert (approve.status_code, slug(approve)) == (404, "not-found")
    assert (reject.status_code, slug(reject)) == (404, "not-found")
    assert await gateway_refunds(api, payment) == []
    [still] = await listed(mine.admin, "?status=pending_approval", 1)
    assert still["id"] == held["id"]


async def test_bad_input_gets_4xx_problems(api: Api) -> None:
    t = await team(api)
    oid, _ = await paid_order(t.admin)
    not_a_refund = "00000000-0000-0000-0000-000000000001"

    answers = {
        "unknown": await t.admin.call("POST", f"/refunds/{not_a_refund}/approve"),
        "not a uuid": await t.admin.call("POST", "/refunds/123/approve"),
        "an order's id": await t.admin.call("POST", f"/refunds/{oid}/approve"),
        "bad status": await t.admin.call("GET", "/refunds?status=nonsense"),
        "bad cursor": await t.admin.call("GET", "/refunds?cursor=garbage"),
        "huge limit": await t.admin.call("GET", "/refunds?limit=100000"),
        "by service": await t.service.call("GET", "/refunds"),
    }

    codes = {name: a.status_code for name, a in answers.items()}
    assert codes == {
        "unknown": 404,
        "not a uuid": 404,
        "an order's id": 404,
        "bad status": 422,
        "bad cursor": 422,
        "huge limit": 422,
        "by service": 403,
    }
    for answer in answers.values():
        assert answer.headers["content-type"].startswith("application/problem+json")
