"""Until the container and router have them: the payment administration providers and
routes, added to a built container and app exactly as the lead's wiring adds them."""

from __future__ import annotations

from typing import Any

from dependency_injector import providers
from litestar import Litestar, Router

from entrypoints import payment_providers
from entrypoints.http.api.admin_payments import (
    FeeTiersAdminController,
    GatewaysAdminController,
    ReconciliationAdminController,
)
from entrypoints.http.api.manual_payments import ManualPaymentsController
from entrypoints.http.auth import API_SECURITY

CONTROLLERS = [
    GatewaysAdminController,
    FeeTiersAdminController,
    ReconciliationAdminController,
    ManualPaymentsController,
]


def wire_container(container: Any) -> None:
    """Adds the four providers of ``entrypoints.payment_providers`` if missing."""
    if hasattr(container, "gateway_resolver"):
        return
    configs = providers.Singleton(
        payment_providers.gateway_configs, container.settings, container.pool
    )
    container.set_providers(
        gateway_configs=configs,
        reconciliation_reports=providers.Singleton(
            payment_providers.reconciliation_reports, container.pool
        ),
        tenant_directory=providers.Singleton(
            payment_providers.tenant_directory, container.pool, container.tenants
        ),
        gateway_resolver=providers.Singleton(
            payment_providers.gateway_resolver,
            container.settings,
            configs,
            container.payment_gateway,
        ),
    )


def wire_app(app: Litestar) -> None:
    """Registers the controllers under /api/v1 if the router does not have them yet."""
    wire_container(app.state.container)
    paths = {route.path for route in app.routes}
    if "/api/v1/admin/gateways" not in paths:
        app.register(Router("/api/v1", route_handlers=CONTROLLERS, security=API_SECURITY))
