"""The Order aggregate: priced lines, money received and refunded, and its lifecycle.

Each public command checks first and raises a ``DomainError`` (recording
nothing) or records one event through a private ``@event`` method. Every event
that can change the status carries the resulting ``status``, so projections
need no copy of these rules, and the status history is built from those events.
A cash-on-delivery order is confirmed and shipped unpaid and records its cash
as it is collected, staying in its fulfilment status (``COLLECTING_CASH``); it
is delivered only once it owes nothing. Addresses are personal data: they arrive
sealed (``Encrypted``) under the customer's data key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from commerce_core.inventory.routing import PlannedShipment
from commerce_core.ordering.order.attribution import (
    Attribution,
    ImportedFrom,
    check_attribution,
)
from commerce_core.ordering.order.errors import (
    CommandRequiredError,
    OrderAlreadyPaidError,
    OverpaymentError,
    PaymentInProgressError,
    RefundExceedsPaidError,
    TransitionGuardError,
)
from commerce_core.ordering.order.fulfilment import lines_to_ship, remaining
from commerce_core.ordering.order.guards import check_metadata, check_move
from commerce_core.ordering.order.pricing import Discount, PricedOrder, check_priced
from commerce_core.ordering.order.states import (
    AWAITING_PAYMENT,
    COLLECTING_CASH,
    COMMAND_ONLY,
    REFUNDABLE,
    OrderStatus,
    check_transition,
)
from commerce_core.ordering.order.values import (
    Channel,
    DisputeOutcome,
    OrderLine,
    OrderTotals,
    StatusChange,
)
from commerce_core.shared.errors import (
    CurrencyMismatchError,
    InvalidTransitionError,
    InvalidValueError,
)
from commerce_core.shared.money import Money
from commerce_core.shared.pii import Encrypted, check_sealed_for
from commerce_core.shared.values import (
    OrderNumber,
    PaymentMethod,
    Sku,
    SkuQuantity,
    check_aware,
    parse_enum,
)

S = OrderStatus
SYSTEM = "system"
"""The actor of changes no person asked for (webhooks, jobs)."""


class Order(Aggregate):
    """An order of one tenant's customer; ``version`` is the number of its events."""

    # 2: ``payments_in_progress``, ``received``, ``refund_ids``. Snapshots of 1 cannot
    # know them; migration 0011 drops those snapshots and orders load from their events.
    # 3: ``fulfilment_plan`` (ADR 0031); orders placed before routing have none.
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["payments_in_progress"] = []
        state["received"] = {}
        state["refund_ids"] = []

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["fulfilment_plan"] = []

    tenant_id: str
    number: OrderNumber
    customer_id: UUID
    status: OrderStatus
    currency: str
    lines: list[OrderLine]
    totals: OrderTotals
    discounts: list[Discount]
    paid: Money
    refunded: Money
    shipping_address: Encrypted | None
    billing_address: Encrypted | None
    shipping_method: str | None
    payment_method: PaymentMethod | None
    channel: Channel
    metadata: dict[str, str]
    reservation_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    status_history: list[StatusChange]
    payment_ids: list[UUID]
    # Payments asked of the gateway and not settled on the order yet (at most one).
    payments_in_progress: list[UUID]
    received: dict[str, Money]  # payment id -> money recorded from it
    refund_ids: list[UUID]
    shipment_ids: list[UUID]
    shipped: dict[Sku, int]
    # The fulfilment status a partial refund paused, and the status a dispute interrupted.
    paused_status: OrderStatus | None
    disputed_from: OrderStatus | None
    # Which location ships which units (ADR 0031); empty for orders placed before routing.
    fulfilment_plan: list[PlannedShipment]

    class Placed(Aggregate.Created):
        """The order was placed. Version 2 added ``fulfilment_plan``; events stored before
        it are read as orders without a plan."""

        class_version = 2
        tenant_id: str
        number: OrderNumber
        customer_id: UUID
        currency: str
        lines: list[OrderLine]
        totals: OrderTotals
        discounts: list[Discount]
        shipping_address: Encrypted | None
        billing_address: Encrypted | None
        shipping_method: str | None
        payment_method: PaymentMethod | None
        channel: Channel
        metadata: dict[str, str]
        reservation_expires_at: datetime | None
        at: datetime
        actor: str
        fulfilment_plan: list[PlannedShipment]
        attribution: Attribution | None
        imported: ImportedFrom | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["fulfilment_plan"] = []

    # Class defaults: snapshots taken before these existed load without them.
    attribution: Attribution | None = None
    imported: ImportedFrom | None = None

    @classmethod
    def place(
        cls,
        *,
        id: UUID,
        tenant_id: str,
        number: OrderNumber,
        customer_id: UUID,
        priced: PricedOrder,
        at: datetime,
        channel: Channel = Channel.API,
        shipping_address: Encrypted | None = None,
        billing_address: Encrypted | None = None,
        shipping_method: str | None = None,
        payment_method: PaymentMethod | None = None,
        metadata: dict[str, str] | None = None,
        reservation_expires_at: datetime | None = None,
        actor: str = SYSTEM,
        fulfilment_plan: Sequence[PlannedShipment] = (),
        attribution: Attribution | None = None,
        imported: ImportedFrom | None = None,
    ) -> Order:
        """A new order in ``pending_payment``, priced by ``pricing.price_order``, shipped as
        ``fulfilment_plan`` says (``inventory.routing``); ``imported``: the outside channel's
        order it is (``processes.channel_imports``)."""
        check_priced(priced.lines, priced.totals)
        check_sealed_for(customer_id, shipping_address, billing_address)
        check_metadata(metadata or {})
        check_attribution(attribution)
        check_aware(at)
        if reservation_expires_at is not None:
            check_aware(reservation_expires_at)
        return cls(
            id=id,
            tenant_id=tenant_id,
            number=number,
            customer_id=customer_id,
            currency=priced.totals.total.currency,
            lines=list(priced.lines),
            totals=priced.totals,
            discounts=list(priced.discounts),
            shipping_address=shipping_address,
            billing_address=billing_address,
            shipping_method=shipping_method,
            payment_method=None
            if payment_method is None
            else parse_enum(PaymentMethod, payment_method),
            channel=parse_enum(Channel, channel),
            metadata=dict(metadata or {}),
            reservation_expires_at=reservation_expires_at,
            at=at,
            actor=actor,
            fulfilment_plan=list(fulfilment_plan),
            attribution=attribution,
            imported=imported,
        )

    @event(Placed)
    def __init__(
        self,
        id: UUID,
        tenant_id: str,
        number: OrderNumber,
        customer_id: UUID,
        currency: str,
        lines: list[OrderLine],
        totals: OrderTotals,
        discounts: list[Discount],
        shipping_address: Encrypted | None,
        billing_address: Encrypted | None,
        shipping_method: str | None,
        payment_method: PaymentMethod | None,
        channel: Channel,
        metadata: dict[str, str],
        reservation_expires_at: datetime | None,
        at: datetime,
        actor: str,
        fulfilment_plan: list[PlannedShipment],
        # Defaults: events recorded before these existed decode without them.
        attribution: Attribution | None = None,
        imported: ImportedFrom | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.number = number
        self.customer_id = customer_id
        self.status = S.PENDING_PAYMENT
        self.currency = currency
        self.lines = lines
        self.totals = totals
        self.discounts = discounts
        self.paid = Money.zero(currency)
        self.refunded = Money.zero(currency)
        self.shipping_address = shipping_address
        self.billing_address = billing_address
        self.shipping_method = shipping_method
        self.payment_method = payment_method
        self.channel = channel
        self.metadata = metadata
        self.reservation_expires_at = reservation_expires_at
        self.created_at = at
        self.updated_at = at
        self.status_history = [StatusChange(S.PENDING_PAYMENT, at, actor, None)]
        self.payment_ids = []
        self.payments_in_progress = []
        self.received = {}
        self.refund_ids = []
        self.shipment_ids = []
        self.shipped = {}
        self.paused_status = None
        self.disputed_from = None
        self.fulfilment_plan = fulfilment_plan
        self.attribution = attribution
        self.imported = imported

    # -- queries ---------------------------------------------------------------------------

    @property
    def outstanding(self) -> Money:
        """What the customer still owes."""
        return self.totals.total - self.paid

    @property
    def refundable(self) -> Money:
        """What was paid and not refunded (or charged back)."""
        return self.paid - self.refunded

    @property
    def is_cash_on_delivery(self) -> bool:
        """Paid in cash to the courier: confirmed and shipped before it is paid."""
        return self.payment_method == PaymentMethod.CASH_ON_DELIVERY

    @property
    def accepts_payment(self) -> bool:
        """Whether ``mark_paid`` works in this status: awaiting payment, or a cash-on-delivery
        order on its way (the amount must still fit what it owes)."""
        return self.status in AWAITING_PAYMENT or (
            self.is_cash_on_delivery and self.status in COLLECTING_CASH
        )

    @property
    def is_fully_shipped(self) -> bool:
        return all(self.shipped.get(line.sku, 0) >= line.quantity for line in self.lines)

    def lines_to_ship(self, requested: Sequence[SkuQuantity] | None = None) -> list[SkuQuantity]:
        """The lines a new shipment would carry (``None``: all that is left), or
        ``ShipmentLinesError`` for unknown SKUs and more units than are left."""
        return lines_to_ship(self.lines, self.shipped, requested)

    def received_from(self, payment_id: UUID) -> Money:
        """The money this order recorded from one payment."""
        return self.received.get(str(payment_id), Money.zero(self.currency))

    def has_refund(self, refund_id: UUID) -> bool:
        return refund_id in self.refund_ids

    def can_change_to(self, target: OrderStatus) -> bool:
        """Whether ``change_status(target)`` would be accepted now."""
        try:
            self._check_change(parse_enum(OrderStatus, target))
        except (InvalidTransitionError, InvalidValueError):
            return False
        return True

    # -- commands --------------------------------------------------------------------------

    def request_payment(self, payment_id: UUID, at: datetime, actor: str = SYSTEM) -> None:
        """Records that ``payment_id`` is about to ask the gateway for what the order owes.

        Recorded before the gateway is called, so two concurrent payments of one order
        cannot both reach it: the second finds the first under way
        (``PaymentInProgressError``) or the order paid (``OrderAlreadyPaidError``).
        It stays under way until ``mark_paid``, ``mark_payment_failed`` or
        ``close_payment_request`` names it."""
        check_aware(at)
        if payment_id in self.payments_in_progress:
            return
        if self.payments_in_progress:
            raise PaymentInProgressError(self.number, self.payments_in_progress[0])
        if self.status not in AWAITING_PAYMENT:
            if self.outstanding.is_zero and self.status is not S.CANCELLED:
                raise OrderAlreadyPaidError(self.number)
            raise InvalidTransitionError("order", self.status, S.PAID, name=self.number)
        self._payment_requested(payment_id, at, actor)

    def check_no_payment_in_progress(self) -> None:
        """``PaymentInProgressError`` while a payment of this order is asking the gateway
        (money recorded by hand meanwhile could be taken twice)."""
        if self.payments_in_progress:
            raise PaymentInProgressError(self.number, self.payments_in_progress[0])

    @event("PaymentRequested")
    def _payment_requested(self, payment_id: UUID, at: datetime, actor: str) -> None:
        self.payments_in_progress.append(payment_id)
        self.updated_at = at

    def close_payment_request(self, payment_id: UUID, at: datetime) -> None:
        """The payment under way is settled without money reaching the order (authorized,
        waiting for the customer, voided, or refused by the order)."""
        if payment_id in self.payments_in_progress:
            self._payment_request_closed(payment_id, at)

    @event("PaymentRequestClosed")
    def _payment_request_closed(self, payment_id: UUID, at: datetime) -> None:
        self.payments_in_progress.remove(payment_id)
        self.updated_at = at

    def mark_paid(self, amount: Money, payment_id: UUID, at: datetime, actor: str = SYSTEM) -> None:
        """Records money received; an order awaiting payment is ``paid`` once it has
        received its total. A cash-on-delivery order on its way keeps its status."""
        check_aware(at)
        status = S.PAID if self.payment_settles(amount) else self.status
        self._payment_recorded(payment_id, amount, status, at, actor)

    def payment_settles(self, amount: Money) -> bool:
        """Whether ``mark_paid`` of ``amount`` would make the order ``paid``; raises what it
        would raise. Changes nothing (a check before money moves, without a copy)."""
        self._check_currency(amount)
        if not self.accepts_payment:
            # Not the table alone: it also lists disputed -> paid (a won dispute).
            raise InvalidTransitionError("order", self.status, S.PAID, name=self.number)
        if amount.is_negative or (amount.is_zero and not self.outstanding.is_zero):
            raise InvalidValueError("a payment amount must be positive")
        if amount > self.outstanding:
            raise OverpaymentError(amount, self.outstanding)
        return amount == self.outstanding and self.status in AWAITING_PAYMENT

    @event("PaymentRecorded")
    def _payment_recorded(
        self, payment_id: UUID, amount: Money, status: OrderStatus, at: datetime, actor: str
    ) -> None:
        self.paid += amount
        key = str(payment_id)
        self.received[key] = self.received.get(key, Money.zero(self.currency)) + amount
        if payment_id not in self.payment_ids:
            self.payment_ids.append(payment_id)
        if payment_id in self.payments_in_progress:
            self.payments_in_progress.remove(payment_id)
        self._move(status, at, actor, None)

    def mark_payment_failed(
        self,
        reason: str | None,
        at: datetime,
        payment_id: UUID | None = None,
        actor: str = SYSTEM,
    ) -> None:
        """Records a failed payment attempt; the customer may retry until cancelled."""
        check_aware(at)
        if self.status not in AWAITING_PAYMENT:
            raise InvalidTransitionError("order", self.status, S.PAYMENT_FAILED, name=self.number)
        self._payment_failed(payment_id, reason, S.PAYMENT_FAILED, at, actor)

    @event("PaymentFailed")
    def _payment_failed(
        self,
        payment_id: UUID | None,
        reason: str | None,
        status: OrderStatus,
        at: datetime,
        actor: str,
    ) -> None:
        if payment_id in self.payments_in_progress:
            self.payments_in_progress.remove(payment_id)
        self._move(status, at, actor, reason)

    def change_status(
        self, target: OrderStatus, at: datetime, actor: str, reason: str | None = None
    ) -> None:
        """Moves the order to ``target`` as the table and guards allow (``PATCH /orders``).

        ``cancelled`` and ``payment_failed`` go through ``cancel`` and
        ``mark_payment_failed``; statuses that need a payment, refund,
        shipment or dispute raise ``CommandRequiredError``.
        """
        check_aware(at)
        target = parse_enum(OrderStatus, target)
        if target is S.CANCELLED:
            self.cancel(reason, at, actor)
        elif target is S.PAYMENT_FAILED:
            self.mark_payment_failed(reason, at, actor=actor)
        else:
            self._check_change(target)
            self._status_changed(target, at, actor, reason)

    @event("StatusChanged")
    def _status_changed(
        self, status: OrderStatus, at: datetime, actor: str, reason: str | None
    ) -> None:
        self._move(status, at, actor, reason)

    def mark_delivered(self, at: datetime, actor: str = SYSTEM, reason: str | None = None) -> None:
        """All shipments arrived (see ``shipment.all_delivered``)."""
        self.change_status(S.DELIVERED, at, actor, reason)

    def archive(self, at: datetime, actor: str = SYSTEM, reason: str | None = None) -> None:
        """Files away a finished order: delivered, refunded, settled cancelled ones."""
        self.change_status(S.ARCHIVED, at, actor, reason)

    def cancel(self, reason: str | None, at: datetime, actor: str = SYSTEM) -> None:
        """Cancels an order that has not shipped; money already paid stays to refund."""
        check_aware(at)
        self._check_move(S.CANCELLED)
        self._cancelled(reason, S.CANCELLED, at, actor)

    @event("Cancelled")
    def _cancelled(self, reason: str | None, status: OrderStatus, at: datetime, actor: str) -> None:
        self._move(status, at, actor, reason)

    def record_refund(
        self,
        amount: Money,
        at: datetime,
        refund_id: UUID | None = None,
        reason: str | None = None,
        actor: str = SYSTEM,
    ) -> None:
        """Records money given back: ``partially_refunded``, or ``refunded`` once all of
        it is back. A cancelled order stays ``cancelled``; a cash-on-delivery order that
        still owes (parcels on their way) is ``partially_refunded`` at most."""
        check_aware(at)
        self._check_currency(amount)
        if not amount.amount > 0:
            raise InvalidValueError("a refund amount must be positive")
        full = amount == self.refundable and self.outstanding.is_zero
        if self.status not in REFUNDABLE:
            target = S.REFUNDED if full else S.PARTIALLY_REFUNDED
            if self.status is S.DISPUTED:
                raise TransitionGuardError(
                    self.status, target, "close the dispute first", name=self.number
                )
            raise InvalidTransitionError("order", self.status, target, name=self.number)
        if amount > self.refundable:
            raise RefundExceedsPaidError(amount, self.refundable)
        status = self.status
        if status is not S.CANCELLED:
            status = S.REFUNDED if full else S.PARTIALLY_REFUNDED
        if status is not self.status:
            self._check_move(status)
        self._refund_recorded(refund_id, amount, status, at, actor, reason)

    @event("RefundRecorded")
    def _refund_recorded(
        self,
        refund_id: UUID | None,
        amount: Money,
        status: OrderStatus,
        at: datetime,
        actor: str,
        reason: str | None,
    ) -> None:
        self.refunded += amount
        if refund_id is not None:
            self.refund_ids.append(refund_id)
        self._move(status, at, actor, reason)

    def open_dispute(self, reason: str | None, at: datetime, actor: str = SYSTEM) -> None:
        """The customer disputed the charge: the order pauses until ``close_dispute``."""
        check_aware(at)
        self._check_move(S.DISPUTED)
        self._dispute_opened(reason, S.DISPUTED, at, actor)

    @event("DisputeOpened")
    def _dispute_opened(
        self, reason: str | None, status: OrderStatus, at: datetime, actor: str
    ) -> None:
        self._move(status, at, actor, reason)

    def close_dispute(
        self,
        outcome: DisputeOutcome,
        at: datetime,
        actor: str = SYSTEM,
        reason: str | None = None,
    ) -> None:
        """Won: back where the dispute found the order. Lost: what was held is charged
        back (counted as refunded) and the order is ``refunded``."""
        check_aware(at)
        outcome = parse_enum(DisputeOutcome, outcome)
        if self.status is not S.DISPUTED or self.disputed_from is None:
            raise InvalidTransitionError("order", self.status, "dispute closed", name=self.number)
        won = outcome is DisputeOutcome.WON
        target = self.disputed_from if won else S.REFUNDED
        check_transition(self.status, target, name=self.number)
        charged_back = Money.zero(self.currency) if won else self.refundable
        self._dispute_closed(outcome, charged_back, target, at, actor, reason)

    @event("DisputeClosed")
    def _dispute_closed(
        self,
        outcome: DisputeOutcome,
        charged_back: Money,
        status: OrderStatus,
        at: datetime,
        actor: str,
        reason: str | None,
    ) -> None:
        self.refunded += charged_back
        self._move(status, at, actor, reason)

    def record_shipment(
        self,
        shipment_id: UUID,
        lines: Sequence[SkuQuantity] | None,
        at: datetime,
        actor: str = SYSTEM,
    ) -> None:
        """Records lines leaving in a shipment: ``shipped`` once every unit has left,
        ``partially_shipped`` before that."""
        check_aware(at)
        if self.status is not S.PARTIALLY_SHIPPED:
            # Any status that may ship at all may ship everything: refuse early.
            self._check_move(S.SHIPPED)
        if shipment_id in self.shipment_ids:
            raise InvalidValueError(f"shipment {shipment_id} is already recorded")
        to_ship = self.lines_to_ship(lines)
        left = remaining(self.lines, self.shipped)
        for item in to_ship:
            left[item.sku] -= item.quantity
        target = S.SHIPPED if not any(left.values()) else S.PARTIALLY_SHIPPED
        if not (target is self.status is S.PARTIALLY_SHIPPED):
            self._check_move(target)
        self._shipment_recorded(shipment_id, to_ship, target, at, actor)

    @event("ShipmentRecorded")
    def _shipment_recorded(
        self,
        shipment_id: UUID,
        lines: list[SkuQuantity],
        status: OrderStatus,
        at: datetime,
        actor: str,
    ) -> None:
        self.shipment_ids.append(shipment_id)
        for item in lines:
            self.shipped[item.sku] = self.shipped.get(item.sku, 0) + item.quantity
        self._move(status, at, actor, None)

    # -- guards and state changes ----------------------------------------------------------

    def _check_currency(self, amount: Money) -> None:
        if amount.currency != self.currency:
            raise CurrencyMismatchError(f"order is in {self.currency}, not {amount.currency}")

    def _check_change(self, target: OrderStatus) -> None:
        if target is S.PAYMENT_FAILED:
            if self.status not in AWAITING_PAYMENT:
                raise InvalidTransitionError("order", self.status, target, name=self.number)
            return
        self._check_move(target)
        command = COMMAND_ONLY.get(target)
        if command is not None:
            raise CommandRequiredError(self.status, target, command, name=self.number)

    def _check_move(self, target: OrderStatus) -> None:
        check_move(
            self.status,
            target,
            paused=self.paused_status,
            money_held=self.refundable.amount > 0,
            cash_on_delivery=self.is_cash_on_delivery,
            owes=self.outstanding.amount > 0,
            name=self.number,
        )

    def _move(self, status: OrderStatus, at: datetime, actor: str, reason: str | None) -> None:
        """Applies a status from an event; runs on replay, so it only reads state."""
        self.updated_at = at
        previous = self.status
        if status is previous:
            return
        if status is S.PARTIALLY_REFUNDED and previous is not S.DISPUTED:
            self.paused_status = previous
        elif status not in (S.PARTIALLY_REFUNDED, S.DISPUTED):
            self.paused_status = None
        self.disputed_from = previous if status is S.DISPUTED else None
        self.status = status
        self.status_history.append(StatusChange(status, at, actor, reason))
