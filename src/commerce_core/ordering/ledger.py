"""The order ledger: what the application keeps about one order besides the ``Order``.

- ``payment_ids``: every payment attempt for the order (``Order.payment_ids``
  lists only those that brought money in), so cancelling can void or refund
  them and ``GET /orders/{id}/payments`` can list them.
- ``taken`` / ``restocked``: units that left stock when the order was paid, and
  units put back since (cancel, refund with restock). Stock is restored only
  from what was taken and not yet put back, so a payment recorded without stock
  (it ran out) or a second restock never invents units.
- ``gateway_refunds``: the gateway's refund id -> our refund id, so a webhook
  about a refund that was ``pending`` when we asked finds it.

Its id derives from the order's id; it is started in the same append as the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.stream_ids import derived_id
from commerce_core.shared.values import Sku, SkuQuantity

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/order-ledgers")


class OrderLedger(Aggregate):
    """Payments, stock taken and put back, and refund references of one order."""

    tenant_id: str
    order_id: UUID
    payment_ids: list[UUID]
    taken: dict[str, int]
    restocked: dict[str, int]
    gateway_refunds: dict[str, UUID]

    @staticmethod
    def id_for(order_id: UUID) -> UUID:
        return derived_id(_NAMESPACE, str(order_id))

    @classmethod
    def start(cls, tenant_id: str, order_id: UUID) -> OrderLedger:
        return cls(id=cls.id_for(order_id), tenant_id=tenant_id, order_id=order_id)

    @event("Started")
    def __init__(self, id: UUID, tenant_id: str, order_id: UUID) -> None:
        self.tenant_id = tenant_id
        self.order_id = order_id
        self.payment_ids = []
        self.taken = {}
        self.restocked = {}
        self.gateway_refunds = {}

    # Queries

    def restockable(self) -> list[SkuQuantity]:
        """Units taken from stock for this order and not put back yet."""
        left = {sku: n - self.restocked.get(sku, 0) for sku, n in self.taken.items()}
        return [SkuQuantity(Sku(sku), n) for sku, n in left.items() if n > 0]

    def refund_for(self, gateway_refund_id: str) -> UUID | None:
        return self.gateway_refunds.get(gateway_refund_id)

    # Commands

    def add_payment(self, payment_id: UUID) -> None:
        if payment_id not in self.payment_ids:
            self._payment_added(payment_id=payment_id)

    def record_taken(self, lines: Sequence[SkuQuantity]) -> None:
        if lines:
            self._stock_taken(lines=list(lines))

    def check_restock(self, lines: Sequence[SkuQuantity]) -> None:
        """Refuses putting back more units of a SKU than were taken and not restored."""
        left = {line.sku: line.quantity for line in self.restockable()}
        for line in lines:
            if line.quantity > left.get(line.sku, 0):
                raise InvalidValueError(
                    f"cannot restock {line.quantity} x {line.sku}: "
                    f"{left.get(line.sku, 0)} taken for this order and not restocked"
                )

    def record_restocked(self, lines: Sequence[SkuQuantity]) -> None:
        self.check_restock(lines)
        if lines:
            self._stock_restocked(lines=list(lines))

    def link_refund(self, gateway_refund_id: str, refund_id: UUID) -> None:
        if self.gateway_refunds.get(gateway_refund_id) != refund_id:
            self._refund_linked(gateway_refund_id=gateway_refund_id, refund_id=refund_id)

    # Events

    @event("PaymentAdded")
    def _payment_added(self, payment_id: UUID) -> None:
        self.payment_ids.append(payment_id)

    @event("StockTaken")
    def _stock_taken(self, lines: list[SkuQuantity]) -> None:
        for line in lines:
            self.taken[line.sku] = self.taken.get(line.sku, 0) + line.quantity

    @event("StockRestocked")
    def _stock_restocked(self, lines: list[SkuQuantity]) -> None:
        for line in lines:
            self.restocked[line.sku] = self.restocked.get(line.sku, 0) + line.quantity

    @event("RefundLinked")
    def _refund_linked(self, gateway_refund_id: str, refund_id: UUID) -> None:
        self.gateway_refunds[gateway_refund_id] = refund_id
