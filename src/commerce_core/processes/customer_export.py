"""``GET /customers/{id}/export``: the customer's own data and the addresses of their orders.

The order list read model finds the customer's orders (it may lag an order placed a
moment ago); each order is then loaded from its events and its sealed addresses
opened with the customer's key, so an erased customer's orders show none.
"""

from __future__ import annotations

from uuid import UUID

from commerce_core.customers.services import export_customer
from commerce_core.customers.views import CustomerExport, OrderAddresses
from commerce_core.eventstore import Repository
from commerce_core.ordering.loading import load_order
from commerce_core.ordering.ports.order_queries import Cursor, OrderFilters, OrderQueries
from commerce_core.ordering.services import order_addresses
from commerce_core.shared.ports.keyring import Keyring

_PAGE = 200


async def export_customer_with_orders(
    repo: Repository, keyring: Keyring, orders: OrderQueries, tenant_id: str, customer_id: UUID
) -> CustomerExport:
    """Everything held about the customer, their orders' shipping and billing addresses too."""
    keyring = await keyring.holding([customer_id])  # the orders' addresses are under it too
    export = await export_customer(repo, keyring, tenant_id, customer_id)
    found: list[OrderAddresses] = []
    after: Cursor | None = None
    while True:
        page = await orders.list_orders(
            tenant_id, OrderFilters(customer_id=customer_id), _PAGE, after
        )
        for summary in page.items:
            order = await load_order(repo, tenant_id, summary.id)
            shipping, billing = await order_addresses(keyring, order)
            found.append(
                OrderAddresses(
                    order_id=order.id,
                    number=order.number,
                    shipping_address=shipping,
                    billing_address=billing,
                )
            )
        if page.next_cursor is None:
            return CustomerExport(customer=export.customer, history=export.history, orders=found)
        after = page.next_cursor
