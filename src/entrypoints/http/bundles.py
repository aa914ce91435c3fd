"""The core's service bundles, built from the app's ``Services`` for a handler.

A bundle holds the ports a family of use cases needs, so a controller passes one
value instead of each port. Bundles with the tenant's own gateway or marketplace
are built per request, for the caller's tenant.
"""

from __future__ import annotations

from commerce_core.customers.services import CustomerServices
from commerce_core.ordering.services import OrderServices
from entrypoints.http.services import Services


def customer_services(services: Services) -> CustomerServices:
    return CustomerServices(
        repo=services.repo, keyring=services.keyring, clock=services.clock, ids=services.ids
    )


def order_services(services: Services) -> OrderServices:
    return OrderServices(
        repo=services.repo,
        clock=services.clock,
        ids=services.ids,
        order_numbers=services.order_numbers,
        keyring=services.keyring,
    )
