"""Square as the test server plays it: locations, orders (search by ``updated_at``, create,
update with versions), fulfilment states and inventory counts, with idempotency keys as
Square honours them. Every request is checked against Square's published spec
(tests/fixtures/vendor-specs/square), every answer too: 200s against the operation's
response schema, errors against Square's ``Error`` list (the spec documents only 200s).

``fail_next`` makes the next answer a given one (a 400, a 5xx, a 429, a malformed body).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema_rs

from commerce_core.channels.ports import PosFulfilmentState
from tests.integration.carriers.openapi import Spec
from tests.integration.carriers.vendor_server import Answer, Received

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WEBHOOK_URL = "https://shop.example/webhooks/square"


class SquareSpec(Spec):
    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        if status < 400:
            return super().check_response(method, path, status, body)
        schema = {
            "type": "object",
            "required": ["errors"],
            "properties": {"errors": {"type": "array", "items": self.components["Error"]}},
            "components": {"schemas": self.components},
        }
        return [
            f"error answer {list(error.instance_path)}: {error.message}"
            for error in jsonschema_rs.Draft4Validator(schema).iter_errors(body)
        ]


SQUARE_SPEC = SquareSpec("square/square-pos.json")


def error(status: int, category: str, code: str, detail: str) -> Answer:
    return Answer(status, {"errors": [{"category": category, "code": code, "detail": detail}]})


def refused(code: str, detail: str) -> Answer:
    return error(400, "INVALID_REQUEST_ERROR", code, detail)


@dataclass
class SquareWorld:
    spec: Spec = SQUARE_SPEC
    access_token: str = "sq-token-1"
    signature_key: str = "sq-signature-key"
    client_secret: str = "sq-app-secret"
    code: str = "sq-code-1"
    refresh_token: str = ""
    location_id: str = "L1"
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    failures: list[Answer] = field(default_factory=list)
    created: dict[str, tuple[Any, str]] = field(default_factory=dict)
    updated: dict[str, dict[str, Any]] = field(default_factory=dict)
    counted: set[str] = field(default_factory=set)
    ticks: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, answer: Answer) -> None:
        self.failures.append(answer)

    def now(self) -> str:
        return (T0 + timedelta(seconds=next(self.ticks))).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def answer(self, received: Received) -> Answer:
        if received.path == "/oauth2/token":
            return self.token(received.json())
        if received.headers.get("authorization") != f"Bearer {self.access_token}":
            return error(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED", "bad token")
        if self.failures:
            return self.failures.pop(0)
        route = (received.method, received.path)
        if route == ("GET", "/v2/locations"):
            return self.locations()
        if route == ("POST", "/v2/orders/search"):
            return self.search(received.json())
        if route == ("POST", "/v2/orders"):
            return self.create(received.json())
        if route == ("POST", "/v2/inventory/changes/batch-create"):
            return self.change_counts(received.json())
        order_id = received.path.rsplit("/", 1)[1]
        if order_id not in self.orders:
            return error(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", f"no order {order_id}")
        if received.method == "GET":
            return Answer(200, {"order": self.orders[order_id]})
        return self.update(order_id, received.json())

    def token(self, request: dict[str, Any]) -> Answer:
        """OAuth: a code or a refresh token for new tokens, which then reach the API."""
        valid = (request["grant_type"], request.get("code") or request.get("refresh_token"))
        if request.get("client_secret") != self.client_secret or valid not in {
            ("authorization_code", self.code),
            ("refresh_token", self.refresh_token),
        }:
            return error(401, "AUTHENTICATION_ERROR", "UNAUTHORIZED", "bad code or secret")
        self.access_token = f"sq-token-{next(self.ticks)}"
        self.refresh_token = f"sq-refresh-{next(self.ticks)}"
        expires = T0 + timedelta(days=30)
        return Answer(
            200,
            {
                "access_token": self.access_token,
                "token_type": "bearer",
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "merchant_id": "MERCHANT-1",
                "refresh_token": self.refresh_token,
            },
        )

    def locations(self) -> Answer:
        location = {"id": self.location_id, "name": "Main street", "status": "ACTIVE"}
        return Answer(200, {"locations": [location | {"currency": "USD"}]})

    def search(self, request: dict[str, Any]) -> Answer:
        start = request["query"]["filter"]["date_time_filter"]["updated_at"]["start_at"]
        since = datetime.fromisoformat(start)
        found = sorted(
            (
                order
                for order in self.orders.values()
                if order["location_id"] in request["location_ids"]
                and datetime.fromisoformat(order["updated_at"]) >= since
            ),
            key=lambda order: (order["updated_at"], order["id"]),
        )
        offset = int(request.get("cursor", 0))
        limit = request.get("limit", 500)
        page = found[offset : offset + limit]
        body: dict[str, Any] = {"orders": page}
        if offset + limit < len(found):
            body["cursor"] = str(offset + limit)
        return Answer(200, body)

    def create(self, request: dict[str, Any]) -> Answer:
        key, wanted = request["idempotency_key"], request["order"]
        if key in self.created:
            earlier, order_id = self.created[key]
            if earlier != wanted:
                return refused("IDEMPOTENCY_KEY_REUSED", "the key was used for another order")
            return Answer(200, {"order": self.orders[order_id]})
        if wanted["location_id"] != self.location_id:
            return error(404, "INVALID_REQUEST_ERROR", "NOT_FOUND", "no such location")
        lines = [
            line | {"uid": f"li-{n}", "total_money": _times(line["base_price_money"], line)}
            for n, line in enumerate(wanted["line_items"])
        ]
        order = self.store(
            wanted["location_id"],
            lines,
            [f | {"uid": f"fu-{n}"} for n, f in enumerate(wanted.get("fulfillments", []))],
            tenders=[],
            reference_id=wanted.get("reference_id"),
        )
        self.created[key] = (wanted, order["id"])
        return Answer(200, {"order": order})

    def update(self, order_id: str, request: dict[str, Any]) -> Answer:
        key = request["idempotency_key"]
        if key in self.updated:
            return Answer(200, {"order": self.updated[key]})
        order, change = self.orders[order_id], request["order"]
        if change.get("version") != order["version"]:
            return refused("VERSION_MISMATCH", "the order changed since it was read")
        states = {f["uid"]: f["state"] for f in change.get("fulfillments", [])}
        order["fulfillments"] = [
            f | {"state": states.get(f["uid"], f["state"])} for f in order["fulfillments"]
        ]
        self.touch(order)
        self.updated[key] = json.loads(json.dumps(order))
        return Answer(200, {"order": order})

    def change_counts(self, request: dict[str, Any]) -> Answer:
        counts = []
        for change in request.get("changes", []):
            count = change["physical_count"]
            if count["location_id"] != self.location_id:
                return refused("NOT_FOUND", "no such location")
            counts.append(count)
        if request["idempotency_key"] not in self.counted:
            self.counted.add(request["idempotency_key"])
            for count in counts:
                self.counts[(count["catalog_object_id"], count["location_id"])] = int(
                    count["quantity"]
                )
        answered = [
            {
                "catalog_object_id": count["catalog_object_id"],
                "location_id": count["location_id"],
                "quantity": count["quantity"],
                "state": "IN_STOCK",
                "calculated_at": self.now(),
            }
            for count in counts
        ]
        return Answer(200, {"counts": answered})

    def store(
        self,
        location_id: str,
        lines: list[dict[str, Any]],
        fulfilments: list[dict[str, Any]],
        *,
        tenders: list[dict[str, Any]],
        reference_id: str | None,
    ) -> dict[str, Any]:
        now = self.now()
        total = sum(line["total_money"]["amount"] for line in lines)
        order: dict[str, Any] = {
            "id": f"SQ-ORDER-{len(self.orders) + 1}",
            "location_id": location_id,
            "line_items": lines,
            "fulfillments": fulfilments,
            "tenders": tenders,
            "state": "COMPLETED" if tenders else "OPEN",
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "total_money": {"amount": total, "currency": "USD"},
            "total_tax_money": {"amount": 0, "currency": "USD"},
            "total_discount_money": {"amount": 0, "currency": "USD"},
        }
        if reference_id is not None:
            order["reference_id"] = reference_id
        self.orders[order["id"]] = order
        return order

    def touch(self, order: dict[str, Any]) -> None:
        order["version"] += 1
        order["updated_at"] = self.now()

    def till(self) -> SquareTill:
        return SquareTill(self)


def _times(price: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    return {"amount": price["amount"] * int(line["quantity"]), "currency": price["currency"]}


class SquareTill:
    """The till at the world's location: what a seller does in Square Point of Sale."""

    def __init__(self, world: SquareWorld) -> None:
        self.world = world
        self.location_id = world.location_id

    def item_id(self, sku: str) -> str:
        return f"ITEM-{sku}"

    def ring_up(self, lines: list[tuple[str, int, int]]) -> str:
        items: list[dict[str, Any]] = [
            {
                "uid": f"li-{n}",
                "name": sku.title(),
                "quantity": str(quantity),
                "catalog_object_id": self.item_id(sku),
                "base_price_money": {"amount": price, "currency": "USD"},
                "total_money": {"amount": price * quantity, "currency": "USD"},
            }
            for n, (sku, quantity, price) in enumerate(lines)
        ]
        total = sum(item["total_money"]["amount"] for item in items)
        tender = {
            "id": "TENDER-1",
            "type": "CASH",
            "amount_money": {"amount": total, "currency": "USD"},
        }
        fulfilment = {"uid": "fu-0", "type": "PICKUP", "state": "PROPOSED"}
        order = self.world.store(
            self.location_id, items, [fulfilment], tenders=[tender], reference_id=None
        )
        return str(order["id"])

    def move_fulfilment(self, external_id: str, state: PosFulfilmentState) -> None:
        order = self.world.orders[external_id]
        for fulfilment in order["fulfillments"]:
            fulfilment["state"] = state.value.upper()
        self.world.touch(order)

    def count(self, item_id: str) -> int | None:
        return self.world.counts.get((item_id, self.location_id))

    def signed_delivery(self, event_id: str, external_id: str) -> tuple[bytes, dict[str, str]]:
        order = self.world.orders[external_id]
        payload = {
            "merchant_id": "MERCHANT-1",
            "type": "order.updated",
            "event_id": event_id,
            "created_at": self.world.now(),
            "data": {
                "type": "order_updated",
                "id": external_id,
                "object": {
                    "order_updated": {
                        "order_id": external_id,
                        "location_id": order["location_id"],
                        "state": order["state"],
                        "version": order["version"],
                        "updated_at": order["updated_at"],
                    }
                },
            },
        }
        body = json.dumps(payload).encode()
        return body, {"x-square-hmacsha256-signature": sign(self.world.signature_key, body)}


def sign(key: str, body: bytes, url: str = WEBHOOK_URL) -> str:
    digest = hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
