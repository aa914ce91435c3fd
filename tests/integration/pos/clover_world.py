"""Clover as the test server plays it, from Clover's public REST v3 and webhook docs (Clover
publishes no OpenAPI document): one merchant (its id is the location), orders with line
items, payments and refunds (listed with ``filter=modifiedTime>=``, ``orderBy``, ``limit``,
``offset``, ``expand``; ``filter=note=`` finds an order by its note), order updates, bulk
line items, item stocks. ``CLOVER_DOCS`` holds what the docs say a request and an answer
look like (JSON Schema written from the docs' field tables and examples; each with the page
it comes from) and checks every request and answer against it.

``fail_next`` makes the next answer a given one (a 400, a 5xx, a 429, a malformed body).
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema_rs

from commerce_core.channels.ports import PosFulfilmentState
from tests.integration.carriers.vendor_server import Answer, Received

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
MERCHANT = "MERCHANT1CLV"
_ID = {"type": "string", "pattern": "^[A-Z0-9]{1,13}$"}
_ELEMENTS = {"type": "object", "properties": {"elements": {"type": "array"}}}
_LINE = {
    # docs.clover.com/reference/ordercreatelineitem: "requests must include a price or an
    # item object with an inventory item id"; price in cents; unitQty in thousandths.
    "type": "object",
    "anyOf": [{"required": ["price"]}, {"required": ["item"]}],
    "properties": {
        "name": {"type": "string"},
        "price": {"type": "integer"},
        "unitQty": {"type": "integer"},
        "itemCode": {"type": "string"},
        "item": {"type": "object", "required": ["id"], "properties": {"id": _ID}},
    },
}
_ORDER = {
    # docs.clover.com/reference/ordergetorder (Order): times in epoch ms, total in cents.
    "type": "object",
    "required": ["id", "currency", "total", "state", "createdTime", "modifiedTime"],
    "properties": {
        "id": _ID,
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "total": {"type": "integer"},
        "state": {"type": "string"},
        "paymentState": {"enum": ["OPEN", "PAID", "REFUNDED", "PARTIALLY_REFUNDED"]},
        "title": {"type": "string"},
        "note": {"type": "string"},
        "createdTime": {"type": "integer"},
        "modifiedTime": {"type": "integer"},
        "lineItems": {
            "type": "object",
            "properties": {"elements": {"type": "array", "items": _LINE}},
        },
        "payments": {
            "type": "object",
            "properties": {
                "elements": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "amount", "tender"],
                        "properties": {
                            "amount": {"type": "integer"},
                            "tender": {"type": "object", "required": ["labelKey"]},
                            "result": {"type": "string"},
                        },
                    },
                }
            },
        },
    },
}
_ERROR = {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    request: dict[str, Any] | None
    response: dict[str, Any]
    query: dict[str, str] = field(default_factory=dict)
    """Query parameters the docs define for the route, each a regular expression."""


ROUTES = [
    # docs.clover.com/reference/merchantgetmerchant
    Route("GET", r"/?", None, {"type": "object", "required": ["id", "name"]}),
    # docs.clover.com/reference/ordergetorders ("filter", "expand", "orderBy", "limit",
    # "offset"); modifiedTime is a filter field (docs.clover.com/docs/api-usage-rate-limits
    # advises modifiedTime filters), note a filter field (changelog May 2023).
    Route(
        "GET",
        r"/orders",
        None,
        {**_ELEMENTS, "properties": {"elements": {"type": "array", "items": _ORDER}}},
        {
            "filter": r"^(modifiedTime>=\d+|note=.+)$",
            "expand": r"^[A-Za-z,]+$",
            "orderBy": r"^modifiedTime ASC$",
            "limit": r"^\d+$",
            "offset": r"^\d+$",
        },
    ),
    # docs.clover.com/reference/ordercreateorder: "Valid fields are: taxRemoved, note, title,
    # state, testMode, manualTransaction, groupLineItems, and orderType".
    Route(
        "POST",
        r"/orders",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "note": {"type": "string"},
                "title": {"type": "string"},
                "state": {"type": "string"},
                "taxRemoved": {"type": "boolean"},
                "testMode": {"type": "boolean"},
                "manualTransaction": {"type": "boolean"},
                "groupLineItems": {"type": "boolean"},
                "orderType": {"type": "object"},
            },
        },
        _ORDER,
    ),
    Route("GET", r"/orders/(?P<order>[^/]+)", None, _ORDER, {"expand": r"^[A-Za-z,]+$"}),
    # docs.clover.com/reference/orderupdateorder: the same fields as create.
    Route(
        "POST",
        r"/orders/(?P<order>[^/]+)",
        {"type": "object", "properties": {"title": {"type": "string"}}},
        _ORDER,
    ),
    # docs.clover.com/docs/working-with-orders: /orders/{orderId}/bulk_line_items, at most
    # 100 line items a request (each with a price), answered with the items created.
    Route(
        "POST",
        r"/orders/(?P<order>[^/]+)/bulk_line_items",
        {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "maxItems": 100, "items": _LINE}},
        },
        {"type": "object", "required": ["items"]},
    ),
    # docs.clover.com/docs/querying-inventory: POST item_stocks/{itemId} {"quantity": n}
    # answers {"item": {"id"}, "stockCount", "quantity"}.
    Route(
        "POST",
        r"/item_stocks/(?P<item>[^/]+)",
        {
            "type": "object",
            "required": ["quantity"],
            "properties": {"quantity": {"type": "number"}},
        },
        {"type": "object", "required": ["item", "quantity"]},
    ),
]


OAUTH_ROUTES = {
    # docs.clover.com/docs/high-trust-app-auth-flow: POST /oauth/v2/token {client_id,
    # client_secret, code}; docs.clover.com/docs/refresh-access-tokens: POST
    # /oauth/v2/refresh {client_id, refresh_token}; both answer the pair with Unix expiries.
    "/oauth/v2/token": Route(
        "POST",
        "/oauth/v2/token",
        {"type": "object", "required": ["client_id", "client_secret", "code"]},
        {
            "type": "object",
            "required": [
                "access_token",
                "access_token_expiration",
                "refresh_token",
                "refresh_token_expiration",
            ],
        },
    ),
    "/oauth/v2/refresh": Route(
        "POST",
        "/oauth/v2/refresh",
        {"type": "object", "required": ["client_id", "refresh_token"]},
        {"type": "object", "required": ["access_token", "access_token_expiration"]},
    ),
}


class CloverDocs:
    """Checks requests and answers against ``ROUTES`` (the ``Spec`` the server asks)."""

    def __init__(self, merchant_id: str = MERCHANT) -> None:
        self.prefix = f"/v3/merchants/{merchant_id}"

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        if path in OAUTH_ROUTES and method == "POST":
            return OAUTH_ROUTES[path], {}
        if not path.startswith(self.prefix):
            return None
        rest = path.removeprefix(self.prefix)
        for route in ROUTES:
            matched = re.fullmatch(route.pattern, rest)
            if route.method == method and matched:
                return route, matched.groupdict()
        return None

    def check_request(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> list[str]:
        found = self.route(method, path)
        if found is None:
            return [f"no such Clover endpoint {method} {path}"]
        route = found[0]
        problems = [
            f"query {name!r} undocumented here" for name in query if name not in route.query
        ]
        problems += [
            f"query {name}={value!r} not as documented"
            for name, value in query.items()
            if name in route.query and not re.search(route.query[name], value)
        ]
        if route.pattern in OAUTH_ROUTES:
            pass
        elif not headers.get("authorization", "").startswith("Bearer "):
            problems.append("no bearer token in the Authorization header")
        if route.request is not None:
            problems += _invalid(route.request, json.loads(body or b"null"))
        elif body:
            problems.append("a body where none is documented")
        return problems

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        found = self.route(method, path)
        if found is None:
            return []
        return _invalid(found[0].response if status < 400 else _ERROR, body)


def _invalid(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{list(error.instance_path)}: {error.message}"
        for error in jsonschema_rs.Draft7Validator(schema).iter_errors(instance)
    ]


def error(status: int, message: str) -> Answer:
    return Answer(status, {"message": message})


@dataclass
class CloverWorld:
    spec: CloverDocs = field(default_factory=CloverDocs)
    merchant_id: str = MERCHANT
    access_token: str = "clover-token-1"
    auth_code: str = "0307e264-b33a-4913-88aa-37b10014a0b8"
    client_secret: str = "clover-app-secret"
    code: str = "clover-code-1"
    refresh_token: str = ""
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[Answer] = field(default_factory=list)
    failures_at: dict[str, Answer] = field(default_factory=dict)
    ticks: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, answer: Answer) -> None:
        self.failures.append(answer)

    def fail_next_at(self, suffix: str, answer: Answer) -> None:
        """The next request whose path ends with ``suffix`` gets ``answer``."""
        self.failures_at[suffix] = answer

    def now(self) -> int:
        return int((T0 + timedelta(seconds=next(self.ticks))).timestamp() * 1000)

    def answer(self, received: Received) -> Answer:
        if received.path in OAUTH_ROUTES:
            return self.oauth(received.path, received.json())
        if received.headers.get("authorization") != f"Bearer {self.access_token}":
            return error(401, "401 Unauthorized")
        if self.failures:
            return self.failures.pop(0)
        for suffix in list(self.failures_at):
            if received.path.endswith(suffix):
                return self.failures_at.pop(suffix)
        found = self.spec.route(received.method, received.path)
        if found is None:
            return error(404, "Not Found")
        route, ids = found
        if route.pattern == "/?":
            return Answer(200, {"id": self.merchant_id, "name": "Main street"})
        if route.pattern.startswith("/item_stocks"):
            quantity = received.json()["quantity"]
            self.counts[ids["item"]] = int(quantity)
            return Answer(
                200, {"item": {"id": ids["item"]}, "stockCount": quantity, "quantity": quantity}
            )
        if route.pattern == "/orders":
            if received.method == "GET":
                return self.listed(received.query)
            return self.create(received.json())
        order = self.orders.get(ids["order"])
        if order is None:
            return error(404, f"Order {ids['order']} not found")
        if route.pattern.endswith("bulk_line_items"):
            return self.add_lines(order, received.json()["items"])
        if received.method == "GET":
            return Answer(200, self.expanded(order, received.query.get("expand", "")))
        order.update(received.json())
        self.touch(order)
        return Answer(200, self.expanded(order, ""))

    def oauth(self, path: str, request: dict[str, Any]) -> Answer:
        """A code (with the app's secret) or the current refresh token (used once) for a
        new pair, which then reaches the API."""
        if path.endswith("/token"):
            granted = request.get("client_secret") == self.client_secret
            granted = granted and request.get("code") == self.code
        else:
            granted = (
                bool(self.refresh_token) and request.get("refresh_token") == self.refresh_token
            )
        if not granted:
            return error(401, "Invalid code or refresh token")
        self.access_token = f"clover-token-{next(self.ticks)}"
        self.refresh_token = f"clover-refresh-{next(self.ticks)}"
        expires = int((T0 + timedelta(hours=1)).timestamp())
        return Answer(
            200,
            {
                "access_token": self.access_token,
                "access_token_expiration": expires,
                "refresh_token": self.refresh_token,
                "refresh_token_expiration": expires + 86400 * 30,
            },
        )

    def listed(self, query: dict[str, str]) -> Answer:
        name, operator, value = re.match(r"(\w+)(>=|=)(.*)", query["filter"]).groups()  # type: ignore[union-attr]
        if operator == ">=":
            found = [o for o in self.orders.values() if o[name] >= int(value)]
        else:
            found = [o for o in self.orders.values() if o.get(name) == value]
        found.sort(key=lambda o: (o["modifiedTime"], o["id"]))
        offset = int(query.get("offset", 0))
        page = found[offset : offset + int(query.get("limit", 100))]
        expand = query.get("expand", "")
        return Answer(200, {"elements": [self.expanded(o, expand) for o in page]})

    def expanded(self, order: dict[str, Any], expand: str) -> dict[str, Any]:
        """An order as Clover answers it: nested lists only when ``expand`` names them."""
        shown = {k: v for k, v in order.items() if k not in ("lineItems", "payments", "refunds")}
        for name in ("lineItems", "payments", "refunds"):
            if name in expand.split(","):
                shown[name] = {"elements": order[name]}
        return shown

    def create(self, request: dict[str, Any]) -> Answer:
        order = self.store([], payments=[])
        order.update(request)
        return Answer(200, self.expanded(order, ""))

    def add_lines(self, order: dict[str, Any], items: list[dict[str, Any]]) -> Answer:
        created = [
            item | {"id": f"LI{len(order['lineItems']) + n}"} for n, item in enumerate(items)
        ]
        order["lineItems"] += created
        order["total"] = sum(item["price"] for item in order["lineItems"])
        self.touch(order)
        return Answer(200, {"items": created})

    def store(
        self, lines: list[dict[str, Any]], *, payments: list[dict[str, Any]]
    ) -> dict[str, Any]:
        now = self.now()
        order: dict[str, Any] = {
            "id": f"CLV{len(self.orders) + 1}",
            "currency": "USD",
            "total": sum(line["price"] for line in lines),
            "state": "locked" if payments else "open",
            "createdTime": now,
            "modifiedTime": now,
            "lineItems": lines,
            "payments": payments,
            "refunds": [],
        }
        if payments:
            order["paymentState"] = "PAID"
        self.orders[order["id"]] = order
        return order

    def touch(self, order: dict[str, Any]) -> None:
        order["modifiedTime"] = self.now()

    def till(self) -> CloverTill:
        return CloverTill(self)


class CloverTill:
    """The merchant's Clover device: sales rung up one line item per unit, paid in cash."""

    def __init__(self, world: CloverWorld) -> None:
        self.world = world
        self.location_id = world.merchant_id

    def item_id(self, sku: str) -> str:
        return f"ITEM{sku}"

    def ring_up(self, lines: list[tuple[str, int, int]]) -> str:
        items: list[dict[str, Any]] = [
            {
                "id": f"LI{n}{unit}",
                "name": sku.title(),
                "price": price,
                "item": {"id": self.item_id(sku)},
            }
            for n, (sku, quantity, price) in enumerate(lines)
            for unit in range(quantity)
        ]
        total = sum(item["price"] for item in items)
        payment = {
            "id": f"PAY{len(self.world.orders) + 1}",
            "amount": total,
            "result": "SUCCESS",
            "tender": {"labelKey": "com.clover.tender.cash"},
        }
        return str(self.world.store(items, payments=[payment])["id"])

    def move_fulfilment(self, external_id: str, state: PosFulfilmentState) -> None:
        """Staff edit the order's title (where our fulfilment state is shown)."""
        order = self.world.orders[external_id]
        reference = str(order.get("title") or external_id).rpartition(" [")[0] or external_id
        order["title"] = f"{reference} [{state.value}]"
        self.world.touch(order)

    def count(self, item_id: str) -> int | None:
        return self.world.counts.get(item_id)

    def signed_delivery(self, event_id: str, external_id: str) -> tuple[bytes, dict[str, str]]:
        """Clover's delivery names no event: ``event_id`` is ignored (the adapter derives one)."""
        order = self.world.orders[external_id]
        payload = {
            "appId": "APPCLV1",
            "merchants": {
                self.world.merchant_id: [
                    {"objectId": f"O:{external_id}", "type": "UPDATE", "ts": order["modifiedTime"]}
                ]
            },
        }
        return json.dumps(payload).encode(), {"X-Clover-Auth": self.world.auth_code}
