"""``POST /orders`` per customer: the tenant's ``checkout_per_minute``, off by default.

A customer is its id when the order names one, else its email (trimmed, lower case):
the customer the order is for. Every attempt counts, refused ones included: the limit
is on what a client tries, not on what succeeds.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request

from commerce_core.customers.order_customers import CustomerRef
from entrypoints.http.limits.edge import EdgeLimits
from entrypoints.http.limits.headers import rate_limited


def provide_limits(request: Request[Any, Any, Any]) -> EdgeLimits:
    """The ``limits`` dependency: the app's rate limits."""
    limits: EdgeLimits = request.app.state.limits
    return limits


def _customer(customer: CustomerRef) -> str | None:
    if customer.id is not None:
        return f"id:{customer.id}"
    if customer.email:
        return f"email:{customer.email.strip().lower()}"
    return None


async def limit_checkout(limits: EdgeLimits, tenant_id: UUID, customer: CustomerRef) -> None:
    """Raises 429 ``rate-limited`` when the customer placed its tenant's limit already."""
    quota = (await limits.tenant_settings(tenant_id)).checkout_quota()
    who = _customer(customer)
    if quota is None or who is None:
        return
    verdict = await limits.hit(f"checkout:{tenant_id}:{who}", quota)
    if verdict is not None and not verdict.allowed:
        raise rate_limited(verdict, "too many orders for this customer; retry later")
