"""The /api/v1 router: every resource controller, behind API-key auth and the role matrix."""

from __future__ import annotations

from litestar import Router

from entrypoints.http.api.admin import ProjectionsAdminController
from entrypoints.http.api.admin_payments import (
    FeeTiersAdminController,
    GatewaysAdminController,
    ReconciliationAdminController,
)
from entrypoints.http.api.analytics import AnalyticsController, CustomerAnalyticsController
from entrypoints.http.api.carrier_webhooks import CarrierWebhooksController
from entrypoints.http.api.carriers_admin import CarriersAdminController
from entrypoints.http.api.catalog import CatalogController
from entrypoints.http.api.channel_imports import ChannelImportsController
from entrypoints.http.api.channels_admin import ChannelsAdminController, ChannelsOAuthController
from entrypoints.http.api.customer_list import CustomerListController
from entrypoints.http.api.customers import CustomersController
from entrypoints.http.api.history import HistoryController
from entrypoints.http.api.labels import LabelsController
from entrypoints.http.api.locations import LocationsController
from entrypoints.http.api.manual_payments import ManualPaymentsController
from entrypoints.http.api.notifications import NotificationsAdminController
from entrypoints.http.api.order_list import OrderListController
from entrypoints.http.api.orders import OrdersController
from entrypoints.http.api.payment_list import PaymentListController
from entrypoints.http.api.payments import PaymentsController
from entrypoints.http.api.platform import TenantsAdminController
from entrypoints.http.api.pos_webhooks import CloverWebhooksController, PosWebhooksController
from entrypoints.http.api.product_list import ProductListController
from entrypoints.http.api.refunds import RefundsController
from entrypoints.http.api.relay_admin import RelayAdminController
from entrypoints.http.api.sellers import SellersController
from entrypoints.http.api.settings import SettingsController
from entrypoints.http.api.shipments import ShipmentsController
from entrypoints.http.api.shipping_quotes import ShippingQuotesController
from entrypoints.http.api.shipping_zones import ShippingZonesController
from entrypoints.http.api.webhook_endpoints import (
    WebhookDeliveriesController,
    WebhookEndpointsController,
)
from entrypoints.http.api.webhooks import WebhooksAdminController, WebhooksController
from entrypoints.http.auth import API_SECURITY
from entrypoints.http.roles import role_guard


def api_router() -> Router:
    return Router(
        "/api/v1",
        route_handlers=[
            CatalogController,
            ProductListController,
            CustomerListController,
            PaymentListController,
            CustomersController,
            CustomerAnalyticsController,
            OrderListController,
            OrdersController,
            ChannelImportsController,
            PaymentsController,
            RefundsController,
            ShipmentsController,
            ShippingZonesController,
            LocationsController,
            ShippingQuotesController,
            LabelsController,
            CarriersAdminController,
            ChannelsAdminController,
            ChannelsOAuthController,
            AnalyticsController,
            HistoryController,
            ProjectionsAdminController,
            GatewaysAdminController,
            FeeTiersAdminController,
            TenantsAdminController,
            RelayAdminController,
            ReconciliationAdminController,
            SettingsController,
            ManualPaymentsController,
            SellersController,
            CarrierWebhooksController,
            PosWebhooksController,
            CloverWebhooksController,
            WebhooksController,
            WebhooksAdminController,
            WebhookEndpointsController,
            NotificationsAdminController,
            WebhookDeliveriesController,
        ],
        security=API_SECURITY,
        guards=[role_guard],  # the role matrix: entrypoints/http/roles.py
    )
