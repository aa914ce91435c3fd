"""Customer notifications over real HTTP on PostgreSQL (ADR 0038): an order placed, paid,
shipped and refunded sends its confirmation, receipt, shipping and refund emails once
each to a real SMTP server, also when the worker is replaced mid-way; consent and
erasure are respected; templates are previewed in a sandbox; admins only, one tenant."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.clock import FixedClock
from commerce_core.notifications.pipeline import LEASE
from commerce_core.tenancy.ports.tenants import Role
from entrypoints.notification_worker import NotificationWorker, notification_worker
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.integration.http.test_operator_and_grants import paid_order
from tests.integration.http.test_orders_api import Shop
from tests.integration.notifications.smtp_server import Mailbox, smtp_server

PROBLEM = "https://commerce-core.dev/problems/"
ONLY_PROJECTIONS = frozenset({"projections"})  # the test drives the worker itself


@dataclasses.dataclass
class World:
    api: Api
    shop: Shop
    clock: FixedClock
    mailbox: Mailbox

    def worker(self) -> NotificationWorker:
        """A new worker, as after a restart: it knows only what the database holds."""
        container = self.api.app.state.container
        built = notification_worker(container, container.settings())
        deps = dataclasses.replace(built.deps, clock=self.clock, jitter=lambda: 1.0)
        return dataclasses.replace(built, deps=deps)

    async def reached(self, order_id: str, status: str) -> None:
        """Waits, briefly, for a payment's follow-ups (appended just after it answers)."""
        for _ in range(200):
            order = (await self.shop.call("GET", f"/orders/{order_id}")).json()
            if order["status"] == status:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"order {order_id} never became {status}")


@pytest.fixture
async def world(make_api: MakeApi) -> AsyncIterator[World]:
    async with smtp_server() as mailbox:
        api = await make_api(
            smtp_url=mailbox.url,
            email_from="shop@example.com",
            background_work=ONLY_PROJECTIONS,
        )
        _, key = await api.tenant("acme")
        yield World(api, Shop(api, key), FixedClock(datetime.now(UTC)), mailbox)


async def place(shop: Shop, email: str = "ada@example.com") -> dict[str, Any]:
    """An order of one mug by ``email`` (a new customer the first time)."""
    await shop.stock_product("MUG-1", 1000, 1)
    placed = await shop.order(("MUG-1", 1), customer={"email": email, "name": "Ada"})
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def record_all(worker: NotificationWorker) -> None:
    """Records until every committed event was read: the log shows an event once no
    older transaction is open (the horizon), so this waits for that, briefly."""
    log: Any = worker.log
    for _ in range(250):
        while await worker.record():
            pass
        if await log.horizon_lag() == 0 and (
            await worker.deps.notifications.checkpoint() == await log.head()
        ):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the notification worker never caught up with the event log")


async def run(worker: NotificationWorker) -> None:
    await record_all(worker)
    while await worker.send():
        pass


async def test_placed_paid_shipped_refunded_sends_each_email_once_across_restarts(
    world: World,
) -> None:
    order = await paid_order(world.shop)
    oid = order["id"]
    await world.reached(oid, "paid")
    first = world.worker()
    await run(first)
    assert world.mailbox.subjects() == [
        f"Order {order['number']} confirmed",
        f"Payment received for order {order['number']}",
    ]

    shipped = await world.shop.call("POST", f"/orders/{oid}/shipments", {"carrier": "ups"})
    assert shipped.status_code == 201, shipped.text
    await record_all(first)  # recorded, then the process stops before sending
    second = world.worker()
    await run(second)
    await run(world.worker())  # and again: nothing left to send

    refund = await world.shop.call(
        "POST", f"/payments/{order['payment_id']}/refund", {"amount": 100}
    )
    assert refund.status_code == 201, refund.text
    await world.reached(oid, "partially_refunded")
    await run(world.worker())
    await run(first)  # the first worker, still about, finds nothing either

    number = order["number"]
    assert world.mailbox.subjects() == [
        f"Order {number} confirmed",
        f"Payment received for order {number}",
        f"Order {number} is on its way",
        f"Refund for order {number}",
    ]
    messages = world.mailbox.messages
    assert {str(m["To"]) for m in messages} == {"ada@example.com"}
    assert {str(m["From"]) for m in messages} == {"shop@example.com"}
    assert len({str(m["Message-ID"]) for m in messages}) == 4
    shipping = messages[2]
    text = shipping.get_body(("plain",))
    html = shipping.get_body(("html",))
    assert text is not None
    assert html is not None
    assert f"/orders/{oid}/tracking" in text.get_content()
    assert f"/orders/{oid}/tracking" in html.get_content()
    assert "100 USD" in messages[3].get_body(("plain",)).get_content()  # type: ignore[union-attr]

    listed = await world.shop.call("GET", "/admin/notifications")
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert sorted(i["kind"] for i in items) == sorted(
        ["order_confirmation", "payment_receipt", "shipped", "refund_issued"]
    )
    assert {(i["channel"], i["status"], i["attempts"]) for i in items} == {("email", "sent", 1)}
    assert {i["recipient"] for i in items} == {"a***@example.com"}
    assert all(i["sent_at"] is not None for i in items)


async def test_an_unreachable_server_is_retried_with_backoff_then_sends_once(
    make_api: MakeApi,
) -> None:
    async with smtp_server() as mailbox:
        api = await make_api(smtp_url="smtp://127.0.0.1:9", background_work=ONLY_PROJECTIONS)
        _, key = await api.tenant("acme")
        world = World(api, Shop(api, key), FixedClock(datetime.now(UTC)), mailbox)
        placed = await place(world.shop)
        worker = world.worker()
        await record_all(worker)
        assert await worker.send() == 1  # refused: port 9 listens to nobody
        assert await worker.send() == 0  # not due before its backoff
        [failed] = (await world.shop.call("GET", "/admin/notifications")).json()["items"]
        assert (failed["status"], failed["attempts"]) == ("pending", 1)
        assert failed["last_error"]

        container = api.app.state.container
        fixed = dataclasses.replace(
            worker.deps, email=type(container.email_sender())(mailbox.url, "shop@example.com")
        )
        worker = dataclasses.replace(worker, deps=fixed)
        world.clock.advance(timedelta(seconds=30))
        assert await worker.send() == 1
        world.clock.advance(timedelta(days=1))
        assert await worker.send() == 0
        assert mailbox.subjects() == [f"Order {placed['number']} confirmed"]


@pytest.mark.parametrize(
    ("stage", "reply"),
    [("rcpt", "550 5.1.1 No such user here"), ("data", "554 5.7.1 Message refused as spam")],
)
async def test_a_5xx_to_rcpt_or_data_fails_the_email_for_good(
    world: World, stage: str, reply: str
) -> None:
    getattr(world.mailbox, f"{stage}_replies").append(reply)
    await place(world.shop)
    worker = world.worker()
    await run(worker)
    world.clock.advance(timedelta(days=2))  # past every backoff: nothing is tried again
    await run(worker)
    await run(world.worker())

    assert world.mailbox.messages == []
    [failed] = (await world.shop.call("GET", "/admin/notifications")).json()["items"]
    assert (failed["status"], failed["attempts"], failed["sent_at"]) == ("failed", 1, None)
    assert reply.split(" ", 1)[1] in failed["last_error"]


@pytest.mark.parametrize(
    ("stage", "reply"),
    [("rcpt", "450 4.2.1 Mailbox busy, try later"), ("data", "451 4.3.0 Try again later")],
)
async def test_a_4xx_to_rcpt_or_data_is_retried_after_the_backoff_and_sent_once(
    world: World, stage: str, reply: str
) -> None:
    getattr(world.mailbox, f"{stage}_replies").append(reply)
    placed = await place(world.shop)
    worker = world.worker()
    await run(worker)
    [waiting] = (await world.shop.call("GET", "/admin/notifications")).json()["items"]
    assert (waiting["status"], waiting["attempts"]) == ("pending", 1)
    assert reply.split(" ", 1)[1] in waiting["last_error"]
    assert await worker.send() == 0  # not due before its backoff

    world.clock.advance(timedelta(seconds=30))
    await run(worker)
    world.clock.advance(timedelta(days=1))
    await run(worker)
    assert world.mailbox.subjects() == [f"Order {placed['number']} confirmed"]
    [sent] = (await world.shop.call("GET", "/admin/notifications")).json()["items"]
    assert (sent["status"], sent["attempts"]) == ("sent", 2)


class SendingTogether:
    """The worker's email sender, holding each message until ``together`` are being sent at
    once (a worker sending one at a time never gets there: its first send times out)."""

    def __init__(self, inner: Any, together: int) -> None:
        self._inner = inner
        self._together = together
        self._sending = 0
        self.most = 0
        self._all_in = asyncio.Event()

    async def send(self, email: Any) -> Any:
        self._sending += 1
        self.most = max(self.most, self._sending)
        if self._sending >= self._together:
            self._all_in.set()
        try:
            async with asyncio.timeout(10):
                await self._all_in.wait()
            return await self._inner.send(email)
        finally:
            self._sending -= 1


async def test_orders_are_emailed_side_by_side_and_each_orders_emails_in_turn(
    world: World,
) -> None:
    orders = [await paid_order(world.shop) for _ in range(3)]
    for order in orders:
        await world.reached(order["id"], "paid")
    worker = world.worker()
    sender = SendingTogether(worker.deps.email, together=3)
    worker = dataclasses.replace(worker, deps=dataclasses.replace(worker.deps, email=sender))
    await run(worker)

    assert sender.most == 3  # one message of each order at once, never two of one order
    subjects = world.mailbox.subjects()
    assert len(subjects) == 6
    for order in orders:
        number = order["number"]
        assert [s for s in subjects if s.endswith(number) or f" {number} " in s] == [
            f"Order {number} confirmed",
            f"Payment received for order {number}",
        ]


class KilledAfterSending:
    """The worker's notifications, except that recording an outcome never happens: the
    process was killed after the server accepted the message."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def record(self, notification: Any, outcome: Any) -> None:
        raise RuntimeError("killed before the outcome was recorded")


async def test_a_worker_killed_after_sending_resends_after_the_lease_with_the_same_id(
    world: World,
) -> None:
    """ADR 0038's documented limit: at least once, and every copy has the same Message-ID
    so mail systems can tell a resend; nothing is resent while the lease holds."""
    placed = await place(world.shop)
    dying = world.worker()
    dying = dataclasses.replace(
        dying,
        deps=dataclasses.replace(
            dying.deps, notifications=KilledAfterSending(dying.deps.notifications)
        ),
    )
    await record_all(dying)
    with pytest.raises(RuntimeError, match="killed"):
        await dying.send()
    assert len(world.mailbox.messages) == 1

    await run(world.worker())  # another worker, while the lease holds: nothing
    world.clock.advance(LEASE - timedelta(seconds=1))
    await run(world.worker())
    assert len(world.mailbox.messages) == 1
    world.clock.advance(timedelta(seconds=2))
    await run(world.worker())
    await run(world.worker())

    first, again = world.mailbox.messages
    assert str(first["Message-ID"]) == str(again["Message-ID"])
    assert world.mailbox.subjects() == [f"Order {placed['number']} confirmed"] * 2
    [sent] = (await world.shop.call("GET", "/admin/notifications")).json()["items"]
    assert (sent["status"], sent["attempts"]) == ("sent", 1)


async def test_a_customer_who_refused_email_gets_none(world: World) -> None:
    created = await world.shop.call(
        "POST",
        "/customers",
        {"email": "quiet@example.com", "consent": {"email": False, "sms": False}},
    )
    assert created.status_code == 201, created.text
    assert created.json()["consent"] == {"email": False, "sms": False}
    await world.shop.stock_product("MUG-1", 1000, 10)
    placed = await world.shop.order(("MUG-1", 1), customer={"id": created.json()["id"]})
    assert placed.status_code == 201, placed.text
    await run(world.worker())
    assert world.mailbox.messages == []
    assert (await world.shop.call("GET", "/admin/notifications")).json()["items"] == []


async def test_consent_withdrawn_before_sending_skips_the_message(world: World) -> None:
    placed = await place(world.shop)
    worker = world.worker()
    await record_all(worker)
    patched = await world.shop.call(
        "PATCH", f"/customers/{placed['customer_id']}", {"consent": {"email": False, "sms": False}}
    )
    assert patched.status_code == 200, patched.text
    await run(worker)
    assert world.mailbox.messages == []
    [skipped] = (await world.shop.call("GET", "/admin/notifications")).json()["items"]
    assert skipped["status"] == "skipped"


async def test_an_erased_customer_is_never_contacted(world: World) -> None:
    placed = await place(world.shop)
    worker = world.worker()
    await record_all(worker)  # recorded while the customer was there
    erased = await world.shop.call("DELETE", f"/customers/{placed['customer_id']}")
    assert erased.status_code == 204, erased.text
    await run(worker)
    placed_after = await place(world.shop, "later@example.com")
    await world.shop.call("DELETE", f"/customers/{placed_after['customer_id']}")
    await run(world.worker())  # erased before its event was even read
    assert world.mailbox.messages == []
    [skipped] = (await world.shop.call("GET", "/admin/notifications")).json()["items"]
    assert skipped["status"] == "skipped"


async def test_preview_renders_sample_data_and_refuses_broken_or_escaping_templates(
    world: World,
) -> None:
    ok = await world.shop.call(
        "POST",
        "/admin/notification-templates/shipped/preview",
        {"subject": "Yay {{ order_number }}", "html": "<b>{{ customer_name }}</b>"},
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["subject"] == "Yay 1001"
    assert body["html"] == "<b>Ada Lovelace</b>"
    assert "has shipped" in body["text"]  # the default where the body has none

    for broken in (
        "{{ order_number.__class__.__mro__ }}",
        "{{ order_number.upper.__globals__ }}",
        "{% if %}",
        "{{ no_such_value }}",
    ):
        refused = await world.shop.call(
            "POST", "/admin/notification-templates/shipped/preview", {"text": broken}
        )
        assert refused.status_code == 422, (broken, refused.text)
        assert refused.json()["type"] == PROBLEM + "template-invalid"
        assert "text" in refused.json()["detail"]

    unknown = await world.shop.call("POST", "/admin/notification-templates/nope/preview", {})
    assert unknown.status_code == 422, unknown.text
    assert "order_confirmation" in unknown.json()["detail"]


async def test_a_stored_template_is_used_for_its_tenant_only(world: World) -> None:
    put = await world.shop.call(
        "PUT",
        "/admin/notification-templates/order_confirmation",
        {"subject": "Danke {{ order_number }}"},
    )
    assert put.status_code == 200, put.text
    refused = await world.shop.call(
        "PUT", "/admin/notification-templates/order_confirmation", {"subject": "{{ x.y }}"}
    )
    assert refused.status_code == 422, refused.text

    _, other_key = await world.api.tenant("globex")
    other = Shop(world.api, other_key)
    theirs = (await other.call("GET", "/admin/notification-templates/order_confirmation")).json()
    assert theirs["subject"] == "Order {{ order_number }} confirmed"

    placed = await place(world.shop)
    theirs_placed = await place(other, "bob@example.com")
    await run(world.worker())
    assert sorted(world.mailbox.subjects()) == sorted(
        [f"Danke {placed['number']}", f"Order {theirs_placed['number']} confirmed"]
    )
    mine = (await world.shop.call("GET", "/admin/notifications")).json()["items"]
    assert len(mine) == 1
    assert mine[0]["order_id"] == placed["id"]


async def test_only_admins_see_notifications_and_templates(world: World) -> None:
    tenant, _ = await world.api.tenant("initech")
    for role in (Role.STAFF, Role.SERVICE):
        key = await world.api.key(tenant, role)
        for method, path, body in (
            ("GET", "/admin/notifications", None),
            ("GET", "/admin/notification-templates/shipped", None),
            ("PUT", "/admin/notification-templates/shipped", {"subject": "x"}),
            ("POST", "/admin/notification-templates/shipped/preview", {}),
        ):
            answer = await world.api.client.request(
                method, f"/api/v1{path}", json=body, headers=bearer(key)
            )
            assert answer.status_code == 403, (role, path, answer.text)
