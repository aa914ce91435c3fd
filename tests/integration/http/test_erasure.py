"""Erasure is complete: after ``DELETE /customers/{id}`` no marker of the customer's personal
data stays readable in any table of the schema, in the log output, or in a replayed response.

The customer is given unique marker strings (email, name, phone, address lines, note text,
tags, order addresses, and the billing details of a signed Stripe webhook); every route that
takes personal data is called with an Idempotency-Key; then the customer is erased and every
table (each row cast to text, bytea columns decoded as well) and every captured log line is
searched, and each key is replayed.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
import structlog

from tests.conftest import PgSchema
from tests.integration.http.conftest import Api, MakeApi, bearer
from tests.privacy import in_the_clear
from tests.stripe_events import SECRET, sign

PROBLEMS = "https://commerce-core.dev/problems/"
WAIT = 20.0  # seconds for the projections and the webhook worker to catch up


class Markers:
    """Unique strings for one run; each must vanish with the customer."""

    def __init__(self) -> None:
        run = uuid.uuid4().hex[:10]
        digits = str(uuid.uuid4().int)[:7]
        self.email = f"zqmail{run}@example.com"
        self.email_local = f"zqmail{run}"
        self.name = f"Zqname{run}"
        self.new_name = f"Zqrenamed{run}"
        self.phone = f"+1 415 {digits}"
        self.phone_digits = digits
        self.line1 = f"Zqstreet{run} 1"
        self.line2 = f"Zqflat{run}"
        self.city = f"Zqcity{run}"
        self.moved = f"Zqmoved{run} 2"
        self.note = f"Zqnote{run} prefers the blue mug"
        self.tag = f"zqtag-{run}"
        self.new_tag = f"zqtag2-{run}"
        self.bad_tag = f"zq bad {run}"
        self.shipping = f"Zqship{run} 3"
        self.billing = f"Zqbill{run} 4"
        self.card_name = f"Zqcard{run}"
        self.card_email = f"zqcardmail{run}@example.com"
        self.card_phone = f"+44 20 {digits}"
        self.card_line = f"Zqcardline{run} 5"

    def all(self) -> list[str]:
        return [
            self.email_local,
            self.name,
            self.new_name,
            self.phone_digits,
            self.line1,
            self.line2,
            self.city,
            self.moved,
            self.note.split()[0],
            self.tag,
            self.new_tag,
            self.bad_tag.split()[2],
            self.shipping,
            self.billing,
            self.card_name,
            self.card_email.split("@")[0],
            self.card_line,
        ]


def address(name: str, line1: str, m: Markers) -> dict[str, Any]:
    return {
        "name": name,
        "line1": line1,
        "line2": m.line2,
        "city": m.city,
        "postal_code": "94107",
        "country": "US",
    }


async def readable_text(pool: asyncpg.Pool, schema: str) -> dict[str, str]:
    """Every table of ``schema``: its rows cast to text, and its bytea values decoded."""
    tables = await pool.fetch(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
        schema,
    )
    found: dict[str, str] = {}
    for (table,) in tables:
        rows = await pool.fetch(f'SELECT t::text AS row FROM "{schema}"."{table}" t')
        text = [r["row"] for r in rows]
        binary = await pool.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = $1 AND table_name = $2 AND data_type = 'bytea'",
            schema,
            table,
        )
        for (column,) in binary:
            values = await pool.fetch(f'SELECT "{column}" AS v FROM "{schema}"."{table}"')
            text += [bytes(v["v"]).decode("utf-8", "replace") for v in values if v["v"]]
        found[table] = "\n".join(text)
    return found


def leaks(text: str, markers: list[str]) -> list[str]:
    clear = in_the_clear(text).casefold()
    return [m for m in markers if m.casefold() in clear]


@pytest.fixture
async def shop(make_api: MakeApi, pg_schema: PgSchema) -> AsyncIterator[tuple[Api, asyncpg.Pool]]:
    api = await make_api(stripe_webhook_secret=SECRET)
    pool = await pg_schema.pool(max_size=2)
    try:
        yield api, pool
    finally:
        await pool.close()


class Client:
    def __init__(self, api: Api, key: str) -> None:
        self.api = api
        self.auth = bearer(key)
        self.keys: dict[str, tuple[str, str, Any, int]] = {}

    async def call(
        self, method: str, path: str, body: Any = None, key: str | None = None
    ) -> httpx.Response:
        headers = dict(self.auth)
        if key is not None:
            headers["Idempotency-Key"] = key
        response = await self.api.client.request(
            method, f"/api/v1{path}", json=body, headers=headers
        )
        if key is not None:
            self.keys[key] = (method, path, body, response.status_code)
        return response

    async def eventually(self, path: str, ready: Any) -> Any:
        async with asyncio.timeout(WAIT):
            while True:
                response = await self.call("GET", path)
                assert response.status_code == 200, response.text
                if ready(response.json()):
                    return response.json()
                await asyncio.sleep(0.05)


async def post_webhook(api: Api, event: dict[str, Any], secret: str = SECRET) -> httpx.Response:
    payload = msgspec.json.encode(event)
    headers = {
        "Stripe-Signature": sign(payload, secret, int(time.time())),
        "Content-Type": "application/json",
    }
    return await api.client.post("/api/v1/webhooks/stripe", content=payload, headers=headers)


def charge_event(m: Markers, tenant_id: str, payment: dict[str, Any]) -> dict[str, Any]:
    card_address = {"line1": m.card_line, "city": m.city, "postal_code": "94107", "country": "US"}
    return {
        "id": f"evt_{uuid.uuid4().hex[:16]}",
        "object": "event",
        "type": "charge.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": f"ch_{uuid.uuid4().hex[:16]}",
                "object": "charge",
                "amount": payment["amount"],
                "amount_captured": payment["amount"],
                "captured": True,
                "currency": payment["currency"].lower(),
                "payment_intent": payment["gateway_payment_id"],
                "status": "succeeded",
                "metadata": {
                    "tenant_id": tenant_id,
                    "order_id": payment["order_id"],
                    "payment_id": payment["id"],
                },
                "billing_details": {
                    "name": m.card_name,
                    "email": m.card_email,
                    "phone": m.card_phone,
                    "address": card_address,
                },
                "receipt_email": m.card_email,
                "shipping": {"name": m.card_name, "address": card_address},
                "payment_method_details": {"card": {"brand": "visa", "last4": "4242"}},
            }
        },
    }


async def test_after_erasure_no_marker_is_readable_anywhere_nor_replayed(
    shop: tuple[Api, asyncpg.Pool], pg_schema: PgSchema, caplog: pytest.LogCaptureFixture
) -> None:
    api, pool = shop
    m = Markers()
    tenant, admin = await api.tenant("erasure")
    _, other_admin = await api.tenant("elsewhere")
    c = Client(api, admin)
    caplog.set_level(logging.DEBUG)

    with structlog.testing.capture_logs() as logs:
        registered = await c.call(
            "POST",
            "/customers",
            {
                "email": m.email,
                "name": m.name,
                "phone": m.phone,
                "addresses": [address(m.name, m.line1, m)],
                "tags": [m.tag],
            },
            key="register",
        )
        assert registered.status_code == 201, registered.text
        customer_id = registered.json()["id"]
        refused = await c.call(
            "POST", "/customers", {"email": m.email, "tags": [m.bad_tag]}, key="refused"
        )
        assert refused.status_code == 422, refused.text
        patched = await c.call(
            "PATCH",
            f"/customers/{customer_id}",
            {
                "name": m.new_name,
                "addresses": [address(m.new_name, m.moved, m)],
                "tags": [m.new_tag],
            },
            key="patch",
        )
        assert patched.status_code == 200, patched.text
        noted = await c.call(
            "POST", f"/customers/{customer_id}/notes", {"text": m.note}, key="note"
        )
        assert noted.status_code == 201, noted.text

        product = {"name": "Mug", "price": {"amount": 1500, "currency": "USD"}}
        assert (await c.call("PUT", "/products/MUG-1", product, key="product")).status_code == 200
        receipt = await c.call("POST", "/inventory/MUG-1/receipts", {"quantity": 5}, key="stock")
        assert receipt.status_code == 201, receipt.text
        by_id = await c.call(
            "POST",
            "/orders",
            {
                "customer": {"id": customer_id},
                "lines": [{"sku": "MUG-1", "quantity": 1}],
                "currency": "USD",
                "shipping_address": address(m.new_name, m.shipping, m),
                "billing_address": address(m.new_name, m.billing, m),
            },
            key="order-by-id",
        )
        assert by_id.status_code == 201, by_id.text
        by_email = await c.call(
            "POST",
            "/orders",
            {
                "customer": {"email": m.email, "name": m.name},
                "lines": [{"sku": "MUG-1", "quantity": 1}],
                "currency": "USD",
                "shipping_address": address(m.name, m.shipping, m),
            },
            key="order-by-email",
        )
        assert by_email.status_code == 201, by_email.text
        assert by_email.json()["customer_id"] == customer_id
        order_id = by_id.json()["id"]
        charged = await c.call(
            "POST",
            "/payments/charge",
            {"order_id": order_id, "payment_method": {"type": "card", "token": "tok_visa"}},
            key="charge",
        )
        assert charged.status_code == 201, charged.text

        hook = await post_webhook(api, charge_event(m, str(tenant.id), charged.json()))
        assert hook.status_code == 200, hook.text
        forged = charge_event(m, str(tenant.id), charged.json())
        refused_hook = await post_webhook(api, forged, secret="whsec_not_ours")
        assert refused_hook.status_code == 400, refused_hook.text  # and stored nowhere
        listed = await c.eventually("/admin/webhooks", lambda page: len(page["items"]) == 1)
        webhook_id = listed["items"][0]["id"]
        stored = await c.call("GET", f"/admin/webhooks/{webhook_id}")
        charge = stored.json()["payload"]["data"]["object"]
        assert charge["metadata"]["payment_id"] == charged.json()["id"]
        assert charge["amount"] == charged.json()["amount"]
        assert "billing_details" not in charge
        assert "receipt_email" not in charge

        # the export names every order's addresses while the customer exists
        export = await c.eventually(
            f"/customers/{customer_id}/export", lambda e: len(e["orders"]) == 2
        )
        shipped = {o["order_id"]: o for o in export["orders"]}
        assert shipped[order_id]["shipping_address"]["line1"] == m.shipping
        assert shipped[order_id]["billing_address"]["line1"] == m.billing
        assert shipped[by_email.json()["id"]]["billing_address"] is None
        assert export["customer"]["tags"] == [m.new_tag]
        elsewhere = await api.client.get(
            f"/api/v1/customers/{customer_id}/export", headers=bearer(other_admin)
        )
        assert elsewhere.status_code == 404

        erased = await c.call("DELETE", f"/customers/{customer_id}", key="erase")
        assert erased.status_code == 204, erased.text

        view = (await c.call("GET", f"/customers/{customer_id}")).json()
        assert (view["status"], view["tags"], view["addresses"]) == ("erased", [], [])
        assert (view["email"], view["name"], view["phone"]) == (None, None, None)
        assert [n["text"] for n in view["notes"]] == [None]
        after = (await c.call("GET", f"/customers/{customer_id}/export")).json()
        assert [(o["shipping_address"], o["billing_address"]) for o in after["orders"]] == [
            (None, None),
            (None, None),
        ]
        webhook_after = await c.call("GET", f"/admin/webhooks/{webhook_id}")
        assert webhook_after.status_code == 200

        replays = {
            key: await c.call(method, path, body, key=key)
            for key, (method, path, body, _) in list(c.keys.items())
        }

    markers = m.all()
    for key, replay in replays.items():
        assert replay.headers.get("idempotent-replayed") == "true", (key, replay.text)
        assert not leaks(replay.text, markers), (key, replay.text)
    for key in ("register", "patch", "note"):
        assert replays[key].status_code == 410, replays[key].text
        assert replays[key].json()["type"] == PROBLEMS + "idempotent-response-erased"
    for key in ("refused", "order-by-id", "order-by-email", "charge", "erase", "product"):
        assert replays[key].status_code == c.keys[key][3], key  # replayed as first answered
    assert replays["order-by-id"].json()["id"] == order_id
    for response in (view, after, webhook_after.json()):
        assert not leaks(msgspec.json.encode(response).decode(), markers)

    assert await pool.fetchval(
        "SELECT count(*) FROM customer_keys WHERE key_id = $1", uuid.UUID(customer_id)
    ) == 0  # fmt: skip
    tables = await readable_text(pool, pg_schema.name)
    assert {"events", "idempotency_keys", "webhook_events", "customer_keys"} <= set(tables)
    readable = {table: leaks(text, markers) for table, text in tables.items()}
    assert {t: found for t, found in readable.items() if found} == {}
    logged = "\n".join([repr(entry) for entry in logs] + [r.getMessage() for r in caplog.records])
    assert logs, "the log capture saw nothing"
    assert leaks(logged, markers) == []


async def test_the_table_search_finds_a_marker_in_text_and_in_bytea(
    pg_schema: PgSchema,
) -> None:
    """The search of the test above reads every kind of column it claims to read."""
    pool = await pg_schema.pool(max_size=2)
    try:
        await pool.execute("CREATE TABLE planted (note text, blob bytea, doc jsonb)")
        await pool.execute(
            "INSERT INTO planted VALUES ('zqtext-1', convert_to('zqbytes-1', 'UTF8'),"
            ' \'{"a": ["zqjson-1"]}\')'
        )
        tables = await readable_text(pool, pg_schema.name)
        assert leaks(tables["planted"], ["zqtext-1", "zqbytes-1", "zqjson-1"]) == [
            "zqtext-1",
            "zqbytes-1",
            "zqjson-1",
        ]
    finally:
        await pool.close()


async def test_erasing_while_the_profile_changes_without_keys_leaves_it_erased(
    api: Api, pg_schema: PgSchema
) -> None:
    """Concurrent changes without an Idempotency-Key: each is refused or done before the
    erasure, none fails with a 5xx, and nothing of the profile stays readable."""
    _, admin = await api.tenant("racing")
    c = Client(api, admin)
    m = Markers()
    created = await c.call("POST", "/customers", {"email": m.email, "name": m.name})
    customer_id = created.json()["id"]

    answers = await asyncio.gather(
        c.call("DELETE", f"/customers/{customer_id}"),
        c.call("PATCH", f"/customers/{customer_id}", {"name": m.new_name, "tags": [m.tag]}),
        c.call("POST", f"/customers/{customer_id}/notes", {"text": m.note}),
        c.call("DELETE", f"/customers/{customer_id}"),
    )

    assert [a.status_code for a in answers][::3] == [204, 204]
    assert answers[1].status_code in (200, 409), answers[1].text
    assert answers[2].status_code in (201, 409), answers[2].text
    view = (await c.call("GET", f"/customers/{customer_id}")).json()
    assert (view["status"], view["name"], view["tags"]) == ("erased", None, [])
    pool = await pg_schema.pool(max_size=2)
    try:
        tables = await readable_text(pool, pg_schema.name)
    finally:
        await pool.close()
    assert {t: f for t in tables if (f := leaks(tables[t], m.all()))} == {}


async def test_a_replay_by_another_tenant_with_the_same_key_acts_for_that_tenant(
    api: Api,
) -> None:
    _, ours = await api.tenant("ours")
    _, theirs = await api.tenant("theirs")
    m = Markers()
    headers = {"Idempotency-Key": "shared-key"}
    first = await api.client.post(
        "/api/v1/customers", json={"email": m.email}, headers={**bearer(ours), **headers}
    )
    second = await api.client.post(
        "/api/v1/customers", json={"email": m.email}, headers={**bearer(theirs), **headers}
    )

    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert second.json()["tenant_id"] != first.json()["tenant_id"]
