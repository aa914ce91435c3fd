"""The role matrix: which roles may call each route (ADR 0019; the README's table).

Every route of the app is in exactly one ``RouteGroup``; ``role_guard`` (on the
``/api/v1`` router) refuses a role outside the route's group with 403 ``forbidden``,
and refuses a route that no group names, so a new route is closed until it gets a
rule (``tests/integration/http/test_role_matrix.py`` fails for it meanwhile).

``operator`` keys act platform-wide, and only on the routes their groups name: they
never reach a tenant's orders, customers or money. Finer rules that depend on the
request, not the route (a ``service`` key refunds only with the ``refunds`` grant; a
refund above the tenant's threshold), are checked by the handlers: ``may_refund``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from commerce_core.tenancy.ports.tenants import Grant, Role
from entrypoints.http.auth import Principal, principal_of
from entrypoints.http.problems import problem

OPERATOR, ADMIN, STAFF, SERVICE = Role.OPERATOR, Role.ADMIN, Role.STAFF, Role.SERVICE
EVERY_TENANT_ROLE = frozenset({ADMIN, STAFF, SERVICE})
SEES_ADDRESSES = frozenset({ADMIN, STAFF})
"""Roles shown the addresses of an order (`GET /orders/{id}`): people, not machine clients."""
PUBLIC: frozenset[Role] = frozenset()
"""The roles of a group that needs no API key (health, documentation, gateway callbacks)."""


class RouteGroup(NamedTuple):
    name: str
    roles: frozenset[Role]  # PUBLIC: no key needed
    routes: tuple[str, ...]  # "METHOD /path", parameters without their types


API = "/api/v1"

GROUPS: tuple[RouteGroup, ...] = (
    RouteGroup(
        "health and API documentation",
        PUBLIC,
        (
            "GET /health",
            "GET /ready",
            "GET /schema",
            "GET /schema/swagger",
            "GET /schema/static/{file_path}",
            "GET /schema/{path}",
            "GET /schema/openapi.json",
            "GET /schema/oauth2-redirect.html",
        ),
    ),
    RouteGroup(
        "gateway callbacks (signed by the gateway)",
        PUBLIC,
        (
            f"GET {API}/webhooks/health",
            f"POST {API}/webhooks/{{gateway}}",
            f"POST {API}/webhooks/{{gateway}}/{{tenant_id}}",
            f"POST {API}/webhooks/carriers/{{carrier}}",
            f"POST {API}/webhooks/carriers/{{carrier}}/{{tenant_id}}",
            f"POST {API}/webhooks/square",
            f"POST {API}/webhooks/clover",
        ),
    ),
    RouteGroup(
        "catalog and stock",
        EVERY_TENANT_ROLE,
        (
            f"GET {API}/products",
            f"GET {API}/products/{{sku}}",
            f"PUT {API}/products/{{sku}}",
            f"POST {API}/inventory/{{sku}}/receipts",
            f"GET {API}/inventory/{{sku}}",
        ),
    ),
    RouteGroup(
        "customers",
        EVERY_TENANT_ROLE,
        (
            f"POST {API}/customers",
            f"GET {API}/customers/{{customer_id}}",
            f"PATCH {API}/customers/{{customer_id}}",
            f"POST {API}/customers/{{customer_id}}/notes",
            f"GET {API}/customers/{{customer_id}}/export",
            f"GET {API}/customers/{{customer_id}}/analytics",
            f"GET {API}/customers/{{customer_id}}/orders",
        ),
    ),
    RouteGroup(
        # personal data of many customers at once: people, not machine clients
        "customer search and segments",
        frozenset({ADMIN, STAFF}),
        (
            f"GET {API}/customers",
            f"GET {API}/customers/segments/{{name}}",
        ),
    ),
    RouteGroup(
        "customer erasure",
        frozenset({ADMIN, STAFF}),
        (f"DELETE {API}/customers/{{customer_id}}",),
    ),
    RouteGroup(
        "orders, payments and shipments",
        EVERY_TENANT_ROLE,
        (
            f"GET {API}/orders",
            f"POST {API}/orders",
            f"GET {API}/orders/{{order_id}}",
            f"PATCH {API}/orders/{{order_id}}",
            f"POST {API}/orders/{{order_id}}/cancel",
            f"GET {API}/orders/{{order_id}}/payments",
            f"POST {API}/orders/{{order_id}}/shipments",
            f"POST {API}/payments/authorize",
            f"POST {API}/payments/charge",
            f"POST {API}/payments/{{payment_id}}/capture",
            f"POST {API}/payments/{{payment_id}}/void",
            f"GET {API}/payments",
            f"GET {API}/payments/{{payment_id}}",
            f"GET {API}/shipments/{{shipment_id}}",
            f"POST {API}/shipments/{{shipment_id}}/events",
            f"GET {API}/sellers/{{seller_id}}",
            f"POST {API}/sellers/{{seller_id}}/stripe-onboard",
            f"GET {API}/sellers/{{seller_id}}/payouts",
            f"POST {API}/sellers/{{seller_id}}/refresh",
        ),
    ),
    RouteGroup(
        # service keys: only with the refunds grant (may_refund); cancelling a paid order
        # refunds too, so it is checked there as well
        "refunds",
        EVERY_TENANT_ROLE,
        (
            f"POST {API}/orders/{{order_id}}/refund",
            f"POST {API}/payments/{{payment_id}}/refund",
        ),
    ),
    RouteGroup(
        "refunds waiting for approval",
        frozenset({ADMIN, STAFF}),
        (f"GET {API}/refunds",),
    ),
    RouteGroup(
        # integrations (service keys) and admins bring in orders sold elsewhere (ADR 0033)
        "channel order imports",
        frozenset({ADMIN, SERVICE}),
        (f"POST {API}/channels/{{channel}}/orders",),
    ),
    RouteGroup(
        "refund approval decisions",
        frozenset({ADMIN}),
        (
            f"POST {API}/refunds/{{refund_id}}/approve",
            f"POST {API}/refunds/{{refund_id}}/reject",
        ),
    ),
    RouteGroup(
        "dashboards",
        EVERY_TENANT_ROLE,
        (
            f"GET {API}/analytics/orders/dashboard",
            f"GET {API}/analytics/customers/dashboard",
            f"GET {API}/analytics/attribution",
        ),
    ),
    RouteGroup(
        # checkout clients (service keys) ask for quotes as they place orders
        "shipping quotes",
        EVERY_TENANT_ROLE,
        (f"POST {API}/shipping/quotes",),
    ),
    RouteGroup(
        "delivery zones",
        frozenset({ADMIN}),
        (
            f"GET {API}/admin/shipping/zones",
            f"GET {API}/admin/shipping/zones/{{code}}",
            f"PUT {API}/admin/shipping/zones/{{code}}",
        ),
    ),
    RouteGroup(
        "stock locations",
        frozenset({ADMIN, STAFF}),
        (
            f"GET {API}/admin/locations",
            f"GET {API}/admin/locations/{{location_id}}",
        ),
    ),
    RouteGroup(
        "stock location changes",
        frozenset({ADMIN}),
        (f"PUT {API}/admin/locations/{{location_id}}",),
    ),
    RouteGroup(
        "history and manual payments",
        frozenset({ADMIN, STAFF}),
        (
            f"GET {API}/orders/{{order_id}}/history",
            f"GET {API}/payments/{{payment_id}}/history",
            f"POST {API}/orders/{{order_id}}/payments/manual",
            f"POST {API}/payments/{{payment_id}}/manual-refund",
        ),
    ),
    RouteGroup(
        "tenant administration",
        frozenset({ADMIN}),
        (
            f"GET {API}/admin/gateways",
            f"GET {API}/admin/gateways/{{gateway}}",
            f"PUT {API}/admin/gateways/{{gateway}}",
            f"GET {API}/admin/fee-tiers",
            f"GET {API}/admin/reconciliation/{{day}}",
        ),
    ),
    RouteGroup(
        # the operators' settings (fee terms, rate limits) are neither shown nor changed here
        "tenant settings",
        frozenset({ADMIN}),
        (
            f"GET {API}/admin/settings",
            f"PATCH {API}/admin/settings",
            f"GET {API}/admin/settings/history",
        ),
    ),
    RouteGroup(
        # labels and packing slips print addresses: people's keys only (ADR 0030)
        "shipping labels and packing slips",
        frozenset({ADMIN, STAFF}),
        (
            f"POST {API}/shipments/{{shipment_id}}/label",
            f"GET {API}/shipments/{{shipment_id}}/label",
            f"POST {API}/shipments/{{shipment_id}}/label/void",
            f"GET {API}/shipments/{{shipment_id}}/packing-slip",
        ),
    ),
    RouteGroup(
        "carrier connections",
        frozenset({ADMIN}),
        (
            f"GET {API}/admin/carriers",
            f"GET {API}/admin/carriers/{{carrier}}",
            f"PUT {API}/admin/carriers/{{carrier}}",
        ),
    ),
    RouteGroup(
        # POS secrets are never shown; a forced pull writes orders (ADR 0037)
        "POS connections",
        frozenset({ADMIN}),
        (
            f"GET {API}/admin/channels",
            f"PUT {API}/admin/channels/{{pos}}",
            f"POST {API}/admin/channels/{{pos}}/sync",
            f"GET {API}/admin/channels/{{pos}}/oversells",
            f"POST {API}/admin/channels/{{pos}}/oversells/{{external_id}}/resolve",
            f"POST {API}/admin/channels/{{pos}}/oauth",
            f"GET {API}/channels/{{pos}}/oauth/callback",
        ),
    ),
    RouteGroup(
        # secrets are never shown after creation; deliveries carry ids only (ADR 0036)
        "merchant webhook endpoints (read)",
        frozenset({ADMIN, STAFF}),
        (
            f"GET {API}/webhook-endpoints",
            f"GET {API}/webhook-endpoints/{{endpoint_id}}",
            f"GET {API}/webhook-endpoints/{{endpoint_id}}/deliveries",
        ),
    ),
    RouteGroup(
        "merchant webhook endpoints (change)",
        frozenset({ADMIN}),
        (
            f"POST {API}/webhook-endpoints",
            f"PATCH {API}/webhook-endpoints/{{endpoint_id}}",
            f"DELETE {API}/webhook-endpoints/{{endpoint_id}}",
            f"POST {API}/webhook-endpoints/{{endpoint_id}}/rotate-secret",
            f"POST {API}/webhook-deliveries/{{delivery_id}}/retry",
        ),
    ),
    RouteGroup(
        # masked addresses and order ids of customers; templates shape what they get
        "customer notifications",
        frozenset({ADMIN}),
        (
            f"GET {API}/admin/notifications",
            f"GET {API}/admin/notification-templates/{{name}}",
            f"PUT {API}/admin/notification-templates/{{name}}",
            f"POST {API}/admin/notification-templates/{{name}}/preview",
        ),
    ),
    RouteGroup(
        # an admin sees its tenant's events; an operator the ones no tenant owns
        "webhook events",
        frozenset({OPERATOR, ADMIN}),
        (
            f"GET {API}/admin/webhooks",
            f"GET {API}/admin/webhooks/{{webhook_id}}",
            f"POST {API}/admin/webhooks/{{webhook_id}}/retry",
        ),
    ),
    RouteGroup(
        # an admin sees its tenant's quarantine only; an operator every tenant's
        "projection status",
        frozenset({OPERATOR, ADMIN}),
        (f"GET {API}/admin/projections",),
    ),
    RouteGroup(
        "platform operations",
        frozenset({OPERATOR}),
        (
            f"POST {API}/admin/projections/{{name}}/rebuild",
            f"GET {API}/admin/tenants",
            f"GET {API}/admin/tenants/{{tenant_id}}/fee-tiers",
            f"PUT {API}/admin/tenants/{{tenant_id}}/fee-tiers",
            f"GET {API}/admin/relay",
            "GET /metrics",
        ),
    ),
)


def _by_route() -> dict[str, RouteGroup]:
    table: dict[str, RouteGroup] = {}
    for group in GROUPS:
        for route in group.routes:
            assert route not in table, f"{route} is in two groups"
            table[route] = group
    return table


ROUTES: dict[str, RouteGroup] = _by_route()


def rule_of(method: str, path_template: str) -> RouteGroup | None:
    return ROUTES.get(f"{method} {path_template}")


async def role_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """403 ``forbidden`` unless the key's role is in the route's group. A coroutine
    function although it awaits nothing: litestar runs a plain function guard in a
    thread pool, a hand-off per request that cost more than the check itself."""
    scope = connection.scope
    group = rule_of(str(scope.get("method", "")), str(scope.get("path_template", "")))
    if group is not None and not group.roles:
        return
    principal = principal_of(connection)
    if group is None:
        raise problem(403, "forbidden", "this route has no rule in the role matrix yet")
    if principal.role not in group.roles:
        names = ", ".join(sorted(group.roles))
        raise problem(403, "forbidden", f"{group.name}: this needs one of the roles: {names}")


def may_refund(principal: Principal, amount: int) -> None:
    """A ``service`` key refunds nothing above zero without the ``refunds`` grant."""
    if principal.role is SERVICE and amount > 0 and Grant.REFUNDS not in principal.grants:
        raise problem(
            403, "forbidden", "this service key may not refund: it has no 'refunds' grant"
        )


def matrix_rows() -> Iterator[tuple[str, dict[Role, bool]]]:
    """Each group and whether each role may call it (the README's table)."""
    for group in GROUPS:
        yield group.name, {role: role in group.roles for role in Role}
