"""The core's service bundles, built from the app's ``Services`` for a handler.

A bundle holds the ports a family of use cases needs, so a controller passes one
value instead of each port. Bundles with the tenant's own gateway or marketplace
are built per request, for the caller's tenant.
"""

from __future__ import annotations

from commerce_core.customers.services import CustomerServices
from commerce_core.fulfilment.order_shipping import ZoneShippingPrices
from commerce_core.fulfilment.quoting import QuoteServices
from commerce_core.marketplace.services import SellerServices
from commerce_core.ordering.services import OrderDefaults, OrderServices
from commerce_core.payments.bundle import PaymentServices
from commerce_core.processes.manual_payments import ManualPaymentServices
from commerce_core.processes.shipping import ShippingServices
from commerce_core.tenancy.ports.tenants import TenantSettings
from entrypoints.http.services import Services, tenant_gateway, tenant_marketplace


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
        shipping=ZoneShippingPrices(
            repo=services.repo,
            clock=services.clock,
            keyring=services.keyring,
            carriers=services.carriers,
        ),
    )


def quote_services(services: Services) -> QuoteServices:
    return QuoteServices(
        repo=services.repo,
        clock=services.clock,
        ids=services.ids,
        keyring=services.keyring,
        carriers=services.carriers,
    )


def order_defaults(settings: TenantSettings) -> OrderDefaults:
    """What the tenant's settings say about orders (read per request: a change applies
    to the next order)."""
    return OrderDefaults(
        currency=settings.default_currency,
        reservation_minutes=settings.reservation_minutes,
        accepted_currencies=settings.accepted_currencies,
    )


async def seller_services(services: Services, tenant_id: str) -> SellerServices:
    """With the marketplace of the tenant's gateway."""
    return SellerServices(
        repo=services.repo,
        marketplace=await tenant_marketplace(services, tenant_id),
        clock=services.clock,
        ids=services.ids,
    )


async def payment_services(services: Services, tenant_id: str) -> PaymentServices:
    """With the tenant's gateway (its own account when it configured one)."""
    return PaymentServices(
        repo=services.repo,
        gateway=await tenant_gateway(services, tenant_id),
        clock=services.clock,
        ids=services.ids,
    )


def shipping_services(services: Services) -> ShippingServices:
    return ShippingServices(
        repo=services.repo,
        clock=services.clock,
        ids=services.ids,
        carriers=services.carriers,
        keyring=services.keyring,
        labels=services.labels,
        parcels=services.parcels,
    )


def manual_payment_services(services: Services) -> ManualPaymentServices:
    return ManualPaymentServices(repo=services.repo, clock=services.clock, ids=services.ids)
