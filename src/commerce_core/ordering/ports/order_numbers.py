"""The order numbers port: human order numbers, unique per tenant and increasing."""

from __future__ import annotations

from typing import Protocol

from commerce_core.shared.values import OrderNumber


class OrderNumbers(Protocol):
    """Allocates ``ORD-000123``-style numbers per tenant.

    - Each call returns a number no other call for that tenant has returned,
      even when calls run concurrently (in one process or many).
    - Numbers of one tenant increase in the order calls complete; gaps are
      allowed (a number allocated for an order that was then refused is not
      reused), repeats are not.
    - Tenants have independent sequences, each starting at ``ORD-000001``.
    """

    async def next(self, tenant_id: str) -> OrderNumber: ...
