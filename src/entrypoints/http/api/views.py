"""Response shapes of orders, payments, refunds and shipments (API.md field names)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commerce_core.fulfilment.ports import LabelFormat
from commerce_core.fulfilment.shipment import LabelStatus, Shipment, ShipmentStatus
from commerce_core.ordering.order import (
    Attribution,
    Channel,
    ImportChannel,
    Order,
    OrderStatus,
)
from commerce_core.payments.payment import Payment
from commerce_core.payments.payment.states import PaymentStatus, RefundStatus
from commerce_core.payments.refunds import RefundResult
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address, PaymentMethod
from entrypoints.http.api.schemas import MoneyOut


class LineOut(msgspec.Struct):
    sku: str
    name: str
    quantity: int
    unit_price: MoneyOut
    line_total: MoneyOut


class TotalsOut(msgspec.Struct):
    subtotal: int
    discount: int
    tax: int
    shipping: int
    total: int
    paid: int
    refunded: int
    currency: str


class StatusChangeOut(msgspec.Struct):
    status: OrderStatus
    at: datetime
    actor: str
    reason: str | None


class PlannedLineOut(msgspec.Struct):
    sku: str
    quantity: int


class PlannedShipmentOut(msgspec.Struct):
    """The units one location ships (ADR 0031)."""

    location_id: str
    lines: list[PlannedLineOut]


class ImportedOut(msgspec.Struct, kw_only=True):
    """The outside channel's order an imported order is (``POST /channels/{channel}/orders``)."""

    channel: ImportChannel
    external_id: str
    placed_at: datetime


class OrderOut(msgspec.Struct):
    """``fulfilment_plan``: which location ships which units, decided when the order was
    placed (empty for orders placed before routing); ``attribution``: UTM parameters and
    referral given when placed; ``imported``: the channel order it was imported from (null
    for orders placed here)."""

    id: UUID
    number: str
    status: OrderStatus
    currency: str
    lines: list[LineOut]
    totals: TotalsOut
    customer_id: UUID
    channel: Channel
    shipping_method: str | None
    payment_method: PaymentMethod | None
    metadata: dict[str, str]
    reservation_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    fulfilment_plan: list[PlannedShipmentOut]
    attribution: Attribution | None = None
    imported: ImportedOut | None = None


class PaymentOut(msgspec.Struct):
    id: UUID
    order_id: UUID
    gateway: str
    method: PaymentMethod
    status: PaymentStatus
    amount: int
    authorized: int
    captured: int
    refunded: int
    currency: str
    platform_fee: int
    gateway_fee: int
    net_amount: int
    gateway_payment_id: str | None
    requires_action: bool
    decline_code: str | None
    created_at: datetime
    updated_at: datetime
    client_secret: str | None = None
    attention: str | None = None
    seller_id: str | None = None


class TrackingOut(msgspec.Struct):
    status: ShipmentStatus
    at: datetime
    detail: str | None


class ShipmentLineOut(msgspec.Struct):
    sku: str
    quantity: int


class ShipmentOut(msgspec.Struct, kw_only=True):
    """``label_url`` is this API's ``GET /shipments/{id}/label`` once a label is bought
    (``carrier_label_url`` the carrier's own link, if any); ``rate`` and ``cost`` are what
    the label cost us, ``shipping_paid`` what the customer paid for the order's shipping."""

    id: UUID
    order_id: UUID
    status: ShipmentStatus
    carrier: str
    service: str | None
    tracking_number: str | None
    label_url: str | None
    lines: list[ShipmentLineOut]
    events: list[TrackingOut]
    created_at: datetime
    delivered_at: datetime | None
    label_status: LabelStatus
    label_format: LabelFormat | None = None
    carrier_label_url: str | None = None
    rate: MoneyOut | None = None
    cost: MoneyOut | None = None
    shipping_paid: MoneyOut | None = None
    voided_tracking_numbers: list[str] = msgspec.field(default_factory=list)


class OrderDetailOut(OrderOut, kw_only=True):
    """``shipping_address``/``billing_address``: shown to admin and staff keys only (null
    for service keys, when none was given, and once the customer is erased)."""

    status_history: list[StatusChangeOut]
    payments: list[PaymentOut]
    shipments: list[ShipmentOut]
    shipping_address: Address | None = None
    billing_address: Address | None = None


class OrderStateOut(OrderOut, kw_only=True):
    """The order as it was at a point of its history, with the ids of its payments and shipments."""

    status_history: list[StatusChangeOut]
    payment_ids: list[UUID]
    shipment_ids: list[UUID]


class RefundOut(msgspec.Struct):
    id: UUID
    order_id: UUID
    payment_id: UUID
    amount: int
    currency: str
    status: RefundStatus
    attention: str | None = None


def _order_fields(order: Order) -> dict[str, object]:
    t = order.totals
    return {
        "id": order.id,
        "number": str(order.number),
        "status": order.status,
        "currency": order.currency,
        "lines": [
            LineOut(
                line.sku,
                line.name,
                line.quantity,
                MoneyOut.of(line.unit_price),
                MoneyOut.of(line.line_total),
            )
            for line in order.lines
        ],
        "totals": TotalsOut(
            t.subtotal.amount,
            t.discount.amount,
            t.tax.amount,
            t.shipping.amount,
            t.total.amount,
            order.paid.amount,
            order.refunded.amount,
            order.currency,
        ),
        "customer_id": order.customer_id,
        "channel": order.channel,
        "shipping_method": order.shipping_method,
        "payment_method": order.payment_method,
        "metadata": order.metadata,
        "reservation_expires_at": order.reservation_expires_at,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "version": order.version,
        "fulfilment_plan": [
            PlannedShipmentOut(
                p.location_id, [PlannedLineOut(line.sku, line.quantity) for line in p.lines]
            )
            for p in order.fulfilment_plan
        ],
        "attribution": order.attribution,
        "imported": None
        if order.imported is None
        else ImportedOut(
            channel=order.imported.channel,
            external_id=order.imported.external_id,
            placed_at=order.imported.placed_at,
        ),
    }


def order_out(order: Order) -> OrderOut:
    return OrderOut(**_order_fields(order))  # type: ignore[arg-type]


def order_detail_out(
    order: Order,
    payments: list[Payment],
    shipments: list[Shipment],
    addresses: tuple[Address | None, Address | None] = (None, None),
) -> OrderDetailOut:
    return OrderDetailOut(
        **_order_fields(order),  # type: ignore[arg-type]
        status_history=_history(order),
        payments=[payment_out(p) for p in payments],
        shipments=[shipment_out(s, order.totals.shipping) for s in shipments],
        shipping_address=addresses[0],
        billing_address=addresses[1],
    )


def _history(order: Order) -> list[StatusChangeOut]:
    return [StatusChangeOut(c.status, c.at, c.actor, c.reason) for c in order.status_history]


def order_state_out(order: Order) -> OrderStateOut:
    return OrderStateOut(
        **_order_fields(order),  # type: ignore[arg-type]
        status_history=_history(order),
        payment_ids=list(order.payment_ids),
        shipment_ids=list(order.shipment_ids),
    )


def payment_out(
    payment: Payment, client_secret: str | None = None, attention: str | None = None
) -> PaymentOut:
    return PaymentOut(
        id=payment.id,
        order_id=payment.order_id,
        gateway=payment.gateway,
        method=payment.method,
        status=payment.status,
        amount=payment.amount.amount,
        authorized=payment.authorized.amount,
        captured=payment.captured.amount,
        refunded=payment.refunded.amount,
        currency=payment.currency,
        platform_fee=payment.platform_fee.amount,
        gateway_fee=payment.gateway_fee.amount,
        net_amount=payment.net_amount.amount,
        gateway_payment_id=payment.gateway_payment_id,
        requires_action=payment.requires_action,
        decline_code=payment.decline_code,
        created_at=payment.created_at,
        updated_at=payment.updated_at,
        client_secret=client_secret,
        attention=attention,
        seller_id=payment.seller_id,
    )


def shipment_out(shipment: Shipment, shipping_paid: Money | None = None) -> ShipmentOut:
    bought = shipment.label_key is not None and shipment.has_label
    cost = MoneyOut.of(shipment.rate) if shipment.rate is not None else None
    return ShipmentOut(
        id=shipment.id,
        order_id=shipment.order_id,
        status=shipment.status,
        carrier=shipment.carrier,
        service=shipment.service,
        tracking_number=shipment.tracking_number,
        label_url=f"/api/v1/shipments/{shipment.id}/label" if bought else shipment.label_url,
        carrier_label_url=shipment.label_url,
        label_status=shipment.label_status,
        label_format=LabelFormat(shipment.label_format) if shipment.label_format else None,
        rate=cost,
        cost=cost,
        shipping_paid=MoneyOut.of(shipping_paid) if shipping_paid is not None else None,
        voided_tracking_numbers=list(shipment.voided_labels),
        lines=[ShipmentLineOut(line.sku, line.quantity) for line in shipment.lines],
        events=[TrackingOut(e.status, e.at, e.detail) for e in shipment.tracking],
        created_at=shipment.created_at,
        delivered_at=shipment.delivered_at,
    )


def refund_out(refund: RefundResult) -> RefundOut:
    return RefundOut(
        refund.id,
        refund.order_id,
        refund.payment_id,
        refund.amount.amount,
        refund.amount.currency,
        refund.status,
        refund.attention,
    )
