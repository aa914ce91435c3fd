"""The operations of the HTTP contract (the shared API.md), as ``(METHOD, path)`` pairs.

Paths are as served (``/api/v1`` included) with their parameters unnamed, so that
``/orders/{id}`` in API.md matches ``/api/v1/orders/{order_id}`` in the document.
"""

from __future__ import annotations

import re

API_PATHS = """
PUT /products/{}
POST /inventory/{}/receipts
GET /inventory/{}
POST /orders
GET /orders/{}
GET /orders
PATCH /orders/{}
POST /orders/{}/cancel
POST /orders/{}/refund
POST /orders/{}/shipments
POST /shipments/{}/events
GET /orders/{}/history
GET /orders/{}/payments
POST /payments/authorize
POST /payments/charge
POST /payments/{}/capture
POST /payments/{}/void
POST /payments/{}/refund
GET /payments/{}
POST /webhooks/{}
GET /webhooks/health
PUT /admin/gateways/{}
POST /customers
GET /customers/{}
PATCH /customers/{}
POST /customers/{}/notes
GET /customers/{}/orders
GET /customers/{}/analytics
GET /customers/{}/export
DELETE /customers/{}
GET /analytics/orders/dashboard
GET /analytics/customers/dashboard
GET /admin/projections
POST /admin/projections/{}/rebuild
"""

CONTRACT: list[tuple[str, str]] = [
    (method, f"/api/v1{path}")
    for method, path in (line.split(" ") for line in API_PATHS.split("\n") if line)
] + [("GET", "/health"), ("GET", "/ready")]


def shape(path: str) -> str:
    """The path with its parameters unnamed: ``/orders/{order_id}`` -> ``/orders/{}``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def documented_operations(document: dict[str, object]) -> set[tuple[str, str]]:
    """``(METHOD, shape)`` of every operation of an OpenAPI document."""
    paths = document["paths"]
    assert isinstance(paths, dict)
    return {
        (method.upper(), shape(path))
        for path, item in paths.items()
        for method in item
        if method != "parameters"
    }
