"""An example of every success answer, by the type a handler returns.

``operation_docs.DocumentOperations`` puts ``example_of(<return type>)`` on each
operation's success responses; ``tests/integration/http/test_openapi_document.py``
checks that every success response has one and that each is valid against its
schema. A new response type needs its example here. The examples tell one story: Ada
orders two mugs (``MUG-1``), pays by card, gets them shipped and part refunded.
"""

from __future__ import annotations

import typing
from typing import Any

from commerce_core.customers.views import CustomerExport, CustomerView
from commerce_core.projections.ports.analytics import (
    AttributionReport,
    CustomerAnalytics,
    CustomersDashboard,
    OrdersDashboard,
)
from entrypoints.http.api.admin import RebuildAccepted
from entrypoints.http.api.admin_payments import FeeTermsOut, GatewayOut, ReconciliationOut
from entrypoints.http.api.carriers_admin import CarrierOut
from entrypoints.http.api.catalog import ProductOut, StockOut
from entrypoints.http.api.channels_admin import (
    ChannelList,
    ChannelOut,
    OAuthStartOut,
    OversellList,
    OversellOut,
    SyncOut,
)
from entrypoints.http.api.customer_list import CustomerListOut, SegmentOut
from entrypoints.http.api.customers import NoteOut
from entrypoints.http.api.history import OrderHistoryOut, PaymentHistoryOut
from entrypoints.http.api.locations import LocationList, LocationOut
from entrypoints.http.api.notifications import (
    NotificationList,
    NotificationOut,
    PreviewOut,
    TemplateOut,
)
from entrypoints.http.api.order_list import OrderListOut
from entrypoints.http.api.payment_list import PaymentListOut
from entrypoints.http.api.platform import TenantOut
from entrypoints.http.api.product_list import ProductListOut
from entrypoints.http.api.refunds import RefundApprovalList
from entrypoints.http.api.relay_admin import RelayPosition, RelayStatusOut
from entrypoints.http.api.sellers import OnboardingOut, PayoutsOut, SellerOut
from entrypoints.http.api.settings import SettingsHistoryOut, SettingsOut
from entrypoints.http.api.shipping_quotes import QuotesOut
from entrypoints.http.api.shipping_zones import ZoneList, ZoneOut
from entrypoints.http.api.views import (
    OrderDetailOut,
    OrderOut,
    PaymentOut,
    RefundOut,
    ShipmentOut,
)
from entrypoints.http.api.webhook_endpoints import (
    DeliveryList,
    DeliveryOut,
    EndpointList,
    EndpointOut,
    EndpointWithSecretOut,
)
from entrypoints.http.api.webhooks import (
    WebhookDetailOut,
    WebhookHealth,
    WebhookOut,
    WebhookPage,
    WebhookReceived,
)
from entrypoints.http.health import Health
from entrypoints.projection_ops import ProjectionInfo

TENANT = "7d1c0e2a-5b8f-4f6e-9a3d-2c4b6e8f0a1b"
CUSTOMER = "3a9e1f40-8c2d-4b7e-a5f6-0d1c2b3a4e5f"
ORDER = "0b1e8c52-4f5e-4b7a-9d44-2f0c3c1d9a10"
PAYMENT = "5f2d7c1e-9a8b-4c3d-8e7f-6a5b4c3d2e1f"
REFUND = "8c7b6a59-4d3e-4f2a-b1c0-9e8d7c6b5a49"
SHIPMENT = "c4d5e6f7-1a2b-4c3d-9e8f-7a6b5c4d3e2f"
WEBHOOK = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"
EVENT = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
PLACED = "2026-03-14T09:30:00Z"
PAID = "2026-03-14T09:31:12Z"
SHIPPED = "2026-03-15T08:00:00Z"
DELIVERED = "2026-03-16T14:20:00Z"
REFUNDED = "2026-03-17T10:05:00Z"

MUG = {"amount": 1200, "currency": "USD"}
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 St James's Square",
    "city": "London",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
}
PRODUCT = {
    "sku": "MUG-1",
    "name": "Mug",
    "price": MUG,
    "tax_rate_bps": 1000,
    "updated_at": PLACED,
    "weight_grams": 350,
    "length_mm": 120,
    "width_mm": 90,
    "height_mm": 100,
}
STOCK = {
    "sku": "MUG-1",
    "on_hand": 100,
    "reserved": 2,
    "available": 98,
    "locations": [{"location_id": "default", "on_hand": 100, "reserved": 2, "available": 98}],
}
ORDER_OUT = {
    "id": ORDER,
    "number": "ORD-000123",
    "status": "pending_payment",
    "currency": "USD",
    "lines": [
        {
            "sku": "MUG-1",
            "name": "Mug",
            "quantity": 2,
            "unit_price": MUG,
            "line_total": {"amount": 2400, "currency": "USD"},
        }
    ],
    "totals": {
        "subtotal": 2400,
        "discount": 0,
        "tax": 240,
        "shipping": 500,
        "total": 3140,
        "paid": 0,
        "refunded": 0,
        "currency": "USD",
    },
    "customer_id": CUSTOMER,
    "channel": "web",
    "shipping_method": "standard",
    "payment_method": "card",
    "metadata": {"campaign": "spring"},
    "reservation_expires_at": "2026-03-14T10:00:00Z",
    "created_at": PLACED,
    "updated_at": PLACED,
    "version": 1,
    "fulfilment_plan": [
        {"location_id": "warehouse-sf", "lines": [{"sku": "MUG-1", "quantity": 2}]}
    ],
    "attribution": {"source": "google", "medium": "cpc", "campaign": "spring-mugs"},
    "imported": None,
}
LOCATION_OUT = {
    "id": "warehouse-sf",
    "name": "San Francisco warehouse",
    "address": {
        "name": "Acme SF",
        "line1": "500 Terry Francois St",
        "line2": None,
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94158",
        "country": "US",
    },
    "ships": True,
    "priority": 1,
}
PAYMENT_OUT = {
    "id": PAYMENT,
    "order_id": ORDER,
    "gateway": "stripe",
    "method": "card",
    "status": "captured",
    "amount": 3140,
    "authorized": 3140,
    "captured": 3140,
    "refunded": 0,
    "currency": "USD",
    "platform_fee": 94,
    "gateway_fee": 121,
    "net_amount": 2925,
    "gateway_payment_id": "pi_3PqR8sT2uV4wX6yZ",
    "requires_action": False,
    "decline_code": None,
    "created_at": PAID,
    "updated_at": PAID,
}
PENDING_PAYMENT = {
    **PAYMENT_OUT,
    "status": "pending",
    "authorized": 0,
    "captured": 0,
    "platform_fee": 0,
    "gateway_fee": 0,
    "net_amount": 0,
    "gateway_payment_id": None,
}
"""A payment whose gateway answered late (202): the service finishes it itself."""

SHIPMENT_OUT = {
    "id": SHIPMENT,
    "order_id": ORDER,
    "status": "in_transit",
    "carrier": "ups",
    "service": "ground",
    "tracking_number": "1Z999AA10123456784",
    "label_url": f"/api/v1/shipments/{SHIPMENT}/label",
    "lines": [{"sku": "MUG-1", "quantity": 2}],
    "events": [{"status": "in_transit", "at": SHIPPED, "detail": "left the depot"}],
    "created_at": SHIPPED,
    "delivered_at": None,
    "label_status": "bought",
    "label_format": "png",
    "carrier_label_url": None,
    "rate": {"amount": 812, "currency": "USD"},
    "cost": {"amount": 812, "currency": "USD"},
    "shipping_paid": {"amount": 599, "currency": "USD"},
    "voided_tracking_numbers": [],
}
REFUND_OUT = {
    "id": REFUND,
    "order_id": ORDER,
    "payment_id": PAYMENT,
    "amount": 1200,
    "currency": "USD",
    "status": "succeeded",
}
HISTORY = [
    {"status": "pending_payment", "at": PLACED, "actor": "key:staff", "reason": None},
    {"status": "paid", "at": PAID, "actor": "system", "reason": None},
]
CUSTOMER_OUT = {
    "id": CUSTOMER,
    "tenant_id": TENANT,
    "status": "active",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "phone": "+44 20 7946 0000",
    "addresses": [ADDRESS],
    "tags": ["vip"],
    "notes": [{"number": 1, "text": "prefers email", "author": "key:staff", "at": PLACED}],
    "marketing_consent": {"granted": True, "at": PLACED},
    "consent": {"email": True, "sms": False},
    "created_at": PLACED,
    "updated_at": PLACED,
    "erased": False,
    "erased_at": None,
}
TIMELINE_EVENT = {
    "type": "OrderPlaced",
    "stream": ORDER,
    "stream_type": "order",
    "version": 1,
    "position": 1042,
    "event_id": EVENT,
    "at": PLACED,
    "data": {"currency": "USD", "lines": [{"sku": "MUG-1", "quantity": 2}]},
    "metadata": {"actor": "key:staff", "correlation_id": "3f2c9a1e8b7d4c60", "causation_id": None},
}
RUN = {
    "status": "running",
    "done": 52000,
    "total": 120000,
    "rate": 8200.5,
    "eta_seconds": 8.3,
    "started_at": PLACED,
    "updated_at": PAID,
    "error": None,
}
FEE_TERMS = {
    "tiers": [
        {"tier": "starter", "basis_points": 290, "fixed": 30},
        {"tier": "professional", "basis_points": 250, "fixed": 25},
        {"tier": "enterprise", "basis_points": 190, "fixed": 20},
    ],
    "tier": "starter",
    "override": None,
    "effective": {"basis_points": 290, "fixed": 30},
}
WEBHOOK_OUT = {
    "id": WEBHOOK,
    "gateway": "stripe",
    "event_id": "evt_1PqR8sT2uV4wX6yZ",
    "type": "payment_intent.succeeded",
    "status": "failed",
    "attempts": 2,
    "received_at": PAID,
    "next_attempt_at": "2026-03-14T09:36:12Z",
    "last_error": "the payment is not known yet",
    "note": None,
    "processed_at": None,
}
SELLER = {
    "seller_id": "seller-42",
    "gateway": "stripe",
    "account_id": "acct_1PqR8sT2uV4wX6yZ",
    "country": "GB",
    "charges_enabled": True,
    "payouts_enabled": True,
    "details_submitted": True,
    "requirements_due": [],
    "state_as_of": PAID,
    "opened_at": PLACED,
    "updated_at": PAID,
}

CUSTOMER_ITEM = {
    "id": CUSTOMER,
    "status": "active",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "tags": ["wholesale"],
    "segments": ["high_value_new"],
    "total_orders": 1,
    "total_spent": 2640,
    "currency": "USD",
    "created_at": PLACED,
}
SEGMENT_RULES = {
    "currency": "USD",
    "vip_min_lifetime_value": 100000,
    "vip_min_orders": 10,
    "high_value_min_first_order": 10000,
    "new_customer_days": 30,
    "at_risk_after_days": 90,
}
SETTINGS_OUT = {
    "reservation_minutes": 45,
    "auto_cancel_unpaid_hours": 24,
    "refund_approval_threshold": 100000,
    "default_currency": "USD",
    "accepted_currencies": ["USD", "EUR"],
    "segment_rules": SEGMENT_RULES,
    "version": 3,
    "updated_at": PAID,
    "updated_by": "key:1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
}

US_ADDRESS = {
    "name": "Shop",
    "line1": "1 Market St",
    "line2": None,
    "city": "San Francisco",
    "region": "CA",
    "postal_code": "94105",
    "country": "US",
}
ZONE_OUT = {
    "code": "us",
    "name": "United States",
    "countries": ["US"],
    "regions": [],
    "postal_prefixes": [],
    "methods": [
        {
            "code": "standard",
            "name": "Standard (3-5 days)",
            "price": {"amount": 599, "currency": "USD"},
            "carrier": None,
            "service": None,
            "handling_fee": None,
            "free_over": {"amount": 5000, "currency": "USD"},
            "min_subtotal": None,
            "max_weight_grams": None,
            "delivery_days": [3, 5],
        },
        {
            "code": "ground",
            "name": "Ground",
            "price": None,
            "carrier": "ups",
            "service": "03",
            "handling_fee": {"amount": 100, "currency": "USD"},
            "free_over": None,
            "min_subtotal": None,
            "max_weight_grams": 30000,
            "delivery_days": None,
        },
    ],
    "ship_from": US_ADDRESS,
}

WEBHOOK_ENDPOINT = {
    "id": "6b0f7a52-3c1d-4e8f-9a2b-5d4c3b2a1f00",
    "url": "https://shop.example.com/hooks/commerce",
    "events": ["order.*"],
    "description": "order sync to the warehouse",
    "status": "enabled",
    "notice": None,
    "created_at": PLACED,
    "updated_at": PLACED,
    "previous_secret_expires_at": None,
}
WEBHOOK_DELIVERY = {
    "id": "0c9e8d7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f",
    "endpoint_id": WEBHOOK_ENDPOINT["id"],
    "event_id": "9d8c7b6a-5f4e-4d3c-9b2a-1f0e9d8c7b6a",
    "event_type": "order.paid",
    "status": "succeeded",
    "created_at": PLACED,
    "next_attempt_at": None,
    "attempts": [
        {
            "number": 1,
            "at": PLACED,
            "status_code": 503,
            "duration_ms": 41,
            "error": None,
            "response_body": "busy, try later",
        },
        {
            "number": 2,
            "at": PLACED,
            "status_code": 200,
            "duration_ms": 12,
            "error": None,
            "response_body": "ok",
        },
    ],
}

NOTIFICATION = {
    "id": "7d1c6a8e-2f4b-4c1d-9e3a-5b6c7d8e9f01",
    "kind": "shipped",
    "channel": "email",
    "recipient": "a***@example.com",
    "order_id": "3b9d6f2e-8c1a-4e5b-9f7d-2a4c6e8b0d13",
    "status": "sent",
    "attempts": 1,
    "last_error": None,
    "created_at": PLACED,
    "sent_at": PLACED,
}
SHIPPED_TEMPLATE = {
    "name": "shipped",
    "subject": "Order {{ order_number }} is on its way",
    "text": "Hello {{ customer_name }}, order {{ order_number }} has shipped: {{ tracking_url }}",
    "html": (
        "<p>Order <b>{{ order_number }}</b> has shipped."
        ' <a href="{{ tracking_url }}">Follow it</a>.</p>'
    ),
    "sms": "{{ shop_name }}: order {{ order_number }} has shipped. {{ tracking_url }}",
}
CHANNEL_OUT = {
    "pos": "square",
    "enabled": True,
    "state": "active",
    "configured_at": PLACED,
    "location_map": {"LH2G4W1EXAMPLE": "main"},
    "item_map": {"W62UWFY35CWMYGVWK6TWJDNI": "TEE-BLUE-M"},
    "merchant_id": "ML2F8EXAMPLE",
    "cursor": "2026-03-14T09:30:00.000Z|",
    "last_synced_at": PLACED,
    "lag_seconds": 42,
    "last_error": None,
    "failures": 0,
    "next_attempt_at": None,
    "oversells": 1,
    "verification_code": None,
    "token_expires_at": "2026-04-13T09:30:00Z",
}
OVERSELL = {
    "external_id": "CAISENgvlJ6jLWAzERDzjyHVybY",
    "location_id": "LH2G4W1EXAMPLE",
    "detail": "not enough TEE-BLUE-M at main: 2 wanted, 1 available",
    "recorded_at": PLACED,
    "resolution": {
        "note": "2 units found in the back room; counted and received",
        "by": "key:7b1c9a52-0d0e-4c6f-9f2e-4a8e3c1d5b77",
        "at": PAID,
    },
}

EXAMPLES: dict[type, Any] = {
    NotificationOut: NOTIFICATION,
    NotificationList: {"items": [NOTIFICATION], "next_cursor": None},
    TemplateOut: SHIPPED_TEMPLATE,
    PreviewOut: {
        "name": "shipped",
        "subject": "Order 1001 is on its way",
        "text": "Hello Ada Lovelace, order 1001 has shipped: https://shop.example/orders/1001/tracking",
        "html": (
            "<p>Order <b>1001</b> has shipped."
            ' <a href="https://shop.example/orders/1001/tracking">Follow it</a>.</p>'
        ),
        "sms": "Example Shop: order 1001 has shipped. https://shop.example/orders/1001/tracking",
        "values": {"order_number": "1001", "customer_name": "Ada Lovelace"},
    },
    EndpointOut: WEBHOOK_ENDPOINT,
    EndpointWithSecretOut: {**WEBHOOK_ENDPOINT, "secret": "whsec_" + "3f" * 32},
    EndpointList: {"items": [WEBHOOK_ENDPOINT], "next_cursor": None},
    DeliveryOut: WEBHOOK_DELIVERY,
    DeliveryList: {"items": [WEBHOOK_DELIVERY], "next_cursor": None},
    CarrierOut: {
        "carrier": "ups",
        "enabled": True,
        "configured_at": PLACED,
        "ship_from": US_ADDRESS,
        "default_weight_grams": 1000,
        "account_number": "A1B2C3",
        "environment": "sandbox",
        "carrier_ids": None,
        "phone": None,
    },
    ChannelOut: CHANNEL_OUT,
    ChannelList: {"items": [CHANNEL_OUT]},
    OversellOut: OVERSELL,
    OversellList: {"items": [{**OVERSELL, "resolution": None}]},
    OAuthStartOut: {
        "authorize_url": "https://connect.squareup.com/oauth2/authorize?client_id=sq0idp-EXAMPLE"
        "&scope=ORDERS_READ+ORDERS_WRITE+INVENTORY_READ+INVENTORY_WRITE+ITEMS_READ"
        "+MERCHANT_PROFILE_READ&session=false&state=Zm9vYmFyLWV4YW1wbGUtc3RhdGUtdmFsdWU",
        "state": "Zm9vYmFyLWV4YW1wbGUtc3RhdGUtdmFsdWU",
    },
    SyncOut: {
        "pos": "square",
        "imported": 2,
        "updated": 1,
        "unchanged": 0,
        "oversold": 1,
        "skipped": 0,
        "cursor": "2026-03-14T09:30:00.000Z|",
    },
    ZoneOut: ZONE_OUT,
    LocationOut: LOCATION_OUT,
    LocationList: {"items": [LOCATION_OUT], "next_cursor": None},
    ZoneList: {"items": [ZONE_OUT], "next_cursor": None},
    QuotesOut: {
        "quotes": [
            {
                "id": "6e5d4c3b-2a19-4f08-9e7d-6c5b4a392817",
                "method": "standard",
                "name": "Standard (3-5 days)",
                "carrier": None,
                "service": None,
                "price": {"amount": 0, "currency": "USD"},
                "delivery_days": [3, 5],
                "expires_at": "2026-03-14T10:00:00Z",
                "zone": "us",
            }
        ]
    },
    ProductListOut: {
        "items": [
            {
                "sku": "MUG-1",
                "name": "Mug",
                "price": {"amount": 1200, "currency": "USD"},
                "tax_rate_bps": 1000,
                "updated_at": PLACED,
            }
        ],
        "next_cursor": "TVVHLTE",
    },
    CustomerListOut: {"items": [CUSTOMER_ITEM], "next_cursor": None},
    SegmentOut: {
        "name": "high_value_new",
        "currency": "USD",
        "items": [CUSTOMER_ITEM],
        "next_cursor": None,
    },
    PaymentListOut: {"items": [PAYMENT_OUT], "next_cursor": None},
    SettingsOut: SETTINGS_OUT,
    SettingsHistoryOut: {
        "items": [
            {
                "version": 3,
                "at": PAID,
                "actor": "key:1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d",
                "role": "admin",
                "changes": [{"field": "reservation_minutes", "old": 30, "new": 45}],
            }
        ],
        "next_cursor": None,
    },
    Health: {"status": "ok"},
    ProductOut: PRODUCT,
    StockOut: STOCK,
    OrderOut: ORDER_OUT,
    OrderDetailOut: {
        **ORDER_OUT,
        "status": "paid",
        "totals": {**ORDER_OUT["totals"], "paid": 3140},  # type: ignore[dict-item]
        "version": 3,
        "updated_at": PAID,
        "status_history": HISTORY,
        "payments": [PAYMENT_OUT],
        "shipments": [],
    },
    OrderListOut: {
        "items": [
            {
                "id": ORDER,
                "number": "ORD-000123",
                "status": "paid",
                "customer_id": CUSTOMER,
                "currency": "USD",
                "total": 3140,
                "paid": 3140,
                "refunded": 0,
                "channel": "web",
                "created_at": PLACED,
                "updated_at": PAID,
            }
        ],
        "next_cursor": "WyIyMDI2LTAzLTE0VDA5OjMwOjAwWiIsIjBiMWUiXQ",
    },
    PaymentOut: PAYMENT_OUT,
    RefundOut: REFUND_OUT,
    ShipmentOut: SHIPMENT_OUT,
    CustomerView: CUSTOMER_OUT,
    NoteOut: {"customer_id": CUSTOMER, "number": 2, "text": "call before delivery"},
    CustomerExport: {
        "customer": CUSTOMER_OUT,
        "history": [
            {
                "version": 1,
                "type": "CustomerRegistered",
                "recorded_at": PLACED,
                "actor": "key:staff",
                "data": {"email": "ada@example.com", "name": "Ada Lovelace"},
            }
        ],
        "orders": [
            {
                "order_id": ORDER,
                "number": "ORD-000123",
                "shipping_address": ADDRESS,
                "billing_address": None,
            }
        ],
    },
    CustomerAnalytics: {
        "customer_id": CUSTOMER,
        "currency": "USD",
        "total_orders": 3,
        "total_spent": 9420,
        "average_order_value": 3140,
        "first_order_at": "2025-11-02T17:45:00Z",
        "first_order_total": 3140,
        "last_order_at": PLACED,
        "segments": ["repeat"],
    },
    OrdersDashboard: {
        "currency": "USD",
        "start": "2026-03-01",
        "end": "2026-03-30",
        "orders": 120,
        "revenue": 376800,
        "average_order_value": 3140,
        "payment_success_rate": 0.96,
        "refund_rate": 0.02,
        "placed_value": 392500,
        "payments": 125,
        "refunds": 3,
        "paid_orders": 118,
        "payment_attempts": 125,
        "payment_successes": 120,
        "by_status": {"paid": 40, "shipped": 60, "delivered": 18, "cancelled": 2},
        "by_channel": {"web": 100, "pos": 20},
        "by_day": [
            {"date": "2026-03-14", "orders": 5, "revenue": 15700, "payments": 5, "refunds": 0}
        ],
    },
    AttributionReport: {
        "currency": "USD",
        "start": "2026-03-01",
        "end": "2026-03-30",
        "group_by": "source",
        "orders": 12,
        "revenue": 34540,
        "groups": [
            {
                "group": "google",
                "orders": 8,
                "revenue": 25120,
                "average_order_value": 3140,
                "refund_rate": 0.0,
                "paid": 25120,
                "refunded": 0,
                "paid_orders": 8,
            },
            {
                "group": "(none)",
                "orders": 4,
                "revenue": 9420,
                "average_order_value": 3140,
                "refund_rate": 0.25,
                "paid": 12560,
                "refunded": 3140,
                "paid_orders": 3,
            },
        ],
    },
    CustomersDashboard: {
        "currency": "USD",
        "customers": 840,
        "new_this_month": 65,
        "repeat_customers": 210,
        "repeat_rate": 0.25,
        "lifetime_value": 11200,
        "segments": {"repeat": 210, "vip": 12},
        "cohorts": [{"month": "2026-01", "customers": 70, "retention": [70, 21, 14]}],
    },
    OrderHistoryOut: {
        "events": [TIMELINE_EVENT],
        "state": {
            **ORDER_OUT,
            "status_history": HISTORY[:1],
            "payment_ids": [],
            "shipment_ids": [],
        },
    },
    PaymentHistoryOut: {
        "events": [
            {
                **TIMELINE_EVENT,
                "type": "PaymentCaptured",
                "stream": PAYMENT,
                "stream_type": "payment",
                "version": 2,
                "data": {"amount": 3140},
            }
        ],
        "state": {"status": "captured", "captured": 3140, "currency": "USD"},
    },
    ProjectionInfo: {
        "name": "order_list",
        "version": 2,
        "position": 1042,
        "tx_id": 88231,
        "lag": 0,
        "status": "live",
        "serving": True,
        "error": None,
        "rebuild": None,
        "verify": None,
        "quarantined": 0,
        "degraded_tenants": 0,
        "errors": [],
    },
    RebuildAccepted: {
        "name": "order_list",
        "version": 2,
        "status": "started",
        "progress": "/api/v1/admin/projections",
    },
    GatewayOut: {
        "gateway": "stripe",
        "enabled": True,
        "configured_at": PLACED,
        "publishable_key": "pk_test_51PqR8sT2uV4wX6yZ",
    },
    FeeTermsOut: FEE_TERMS,
    TenantOut: {"id": TENANT, "slug": "shop", "created_at": PLACED, "fee_tier": "starter"},
    RelayStatusOut: {
        "enabled": True,
        "stream": "COMMERCE",
        "position": {"tx_id": 9120, "global_position": 48210},
        "head": {"tx_id": 9131, "global_position": 48262},
        "lag": 52,
        "last_error": None,
    },
    RelayPosition: {"tx_id": 9120, "global_position": 48210},
    ReconciliationOut: {
        "date": "2026-03-14",
        "generated_at": "2026-03-15T02:00:00Z",
        "complete": True,
        "payments_checked": 118,
        "discrepancies": [
            {
                "payment_id": PAYMENT,
                "order_id": ORDER,
                "gateway": "stripe",
                "gateway_payment_id": "pi_3PqR8sT2uV4wX6yZ",
                "kind": "refunded",
                "currency": "USD",
                "ours": 0,
                "theirs": 1200,
                "detail": "refunded at the gateway, not here",
            }
        ],
    },
    RefundApprovalList: {
        "items": [
            {
                "id": REFUND,
                "order_id": ORDER,
                "payment_id": PAYMENT,
                "amount": 3140,
                "currency": "USD",
                "reason": "never arrived",
                "status": "pending_approval",
                "requested_by": "key:staff",
                "requested_at": REFUNDED,
            }
        ],
        "next_cursor": None,
    },
    OnboardingOut: {
        "seller_id": "seller-42",
        "gateway": "stripe",
        "account_id": "acct_1PqR8sT2uV4wX6yZ",
        "onboarding_url": "https://connect.stripe.com/setup/e/acct_1PqR8sT2uV4wX6yZ/abc",
        "onboarding_url_expires_at": "2026-03-14T09:35:00Z",
        "charges_enabled": False,
        "payouts_enabled": False,
        "details_submitted": False,
        "requirements_due": ["external_account", "individual.dob.day"],
    },
    SellerOut: SELLER,
    PayoutsOut: {
        "seller_id": "seller-42",
        "payouts_enabled": True,
        "payouts": [
            {
                "id": "po_1PqR8sT2uV4wX6yZ",
                "amount": {"amount": 292500, "currency": "GBP"},
                "status": "paid",
                "arrival_date": "2026-03-16",
                "created_at": "2026-03-14T00:00:00Z",
                "failure_code": None,
            }
        ],
    },
    WebhookReceived: {"received": True, "duplicate": False},
    WebhookHealth: {
        "status": "ok",
        "received": 3,
        "failed": 0,
        "dead": 0,
        "oldest_pending_seconds": 1.5,
    },
    WebhookOut: WEBHOOK_OUT,
    WebhookPage: {"items": [WEBHOOK_OUT], "next_cursor": None},
    WebhookDetailOut: {
        **WEBHOOK_OUT,
        "payload": {"id": "evt_1PqR8sT2uV4wX6yZ", "type": "payment_intent.succeeded"},
    },
}


def example_of(body_type: Any) -> Any | None:
    """The example of a response body of ``body_type`` (``list[X]``: one X), if any."""
    if typing.get_origin(body_type) is list:
        item = example_of(typing.get_args(body_type)[0])
        return None if item is None else [item]
    return EXAMPLES.get(body_type)
