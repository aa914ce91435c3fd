"""Stock of one SKU at one location: on hand, reservations with expiry, never negative.

Quantities are whole units. ``available(at) = on_hand - reserved(at)``, where a
reservation counts only while ``at < expires_at``: an expired reservation stops
holding stock at its expiry instant, before any job releases it, so every
query takes the instant it is asked about.

Invariant, at every instant a command runs: ``0 <= reserved(at) <= on_hand``,
so ``available(at) >= 0``. Commands that would break it (reserving more than is
available, adjusting below what is reserved, committing an expired reservation
whose stock has been taken since) raise ``InsufficientStockError`` and record
nothing.

Lifecycle of a reservation: ``reserve`` (order placed) then exactly one of
``release`` (cancelled, or expired: the expiry job uses ``expired_reservations``)
or ``commit`` (paid: the units leave ``on_hand``). ``restore`` puts units back
(refund with restock, cancel after payment); the caller says how many, because
the order knows its lines and keeping every order's committed quantity here
would grow this aggregate without bound.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate, event

from commerce_core.shared.bounds import MAX_ON_HAND, MAX_QUANTITY, check_at_most
from commerce_core.shared.errors import DomainError, InvalidValueError

DEFAULT_LOCATION = "default"

_STOCK_ITEM_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/stock-items")


class InsufficientStockError(DomainError):
    """Fewer units are available than a command needs; nothing was recorded."""

    def __init__(self, sku: str, requested: int, available: int) -> None:
        super().__init__(f"{sku}: {requested} requested, {available} available")
        self.sku = sku
        self.requested = requested
        self.available = available
        self.skus = [sku]


class ReservationNotFoundError(DomainError):
    """No reservation of this order is held on this stock item."""

    def __init__(self, sku: str, order_id: UUID) -> None:
        super().__init__(f"{sku}: no reservation for order {order_id}")
        self.sku = sku
        self.order_id = order_id


class ReservationExistsError(DomainError):
    """The order already holds an unexpired reservation here (release it first)."""

    def __init__(self, sku: str, order_id: UUID) -> None:
        super().__init__(f"{sku}: order {order_id} already holds a reservation")
        self.sku = sku
        self.order_id = order_id


class Reservation(msgspec.Struct, frozen=True):
    """Units held for one order until ``expires_at`` (exclusive)."""

    quantity: int
    expires_at: datetime
    reserved_at: datetime

    def is_active(self, at: datetime) -> bool:
        return at < self.expires_at


def _check_positive(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidValueError(f"quantity must be a positive integer, got {quantity!r}")


class StockItem(Aggregate):
    """Stock of one SKU at one location of one tenant."""

    tenant_id: str
    sku: str
    location_id: str
    on_hand: int
    reservations: dict[UUID, Reservation]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    @lru_cache(maxsize=65_536)  # a charge names each of its items several times (ADR 0047)
    def id_for(tenant_id: str | UUID, sku: str, location_id: str = DEFAULT_LOCATION) -> UUID:
        """The stock item's id, derived from its key, so it can be loaded without a lookup."""
        key = msgspec.json.encode([str(tenant_id), sku, location_id]).decode()
        return uuid5(_STOCK_ITEM_NAMESPACE, key)

    @staticmethod
    def create_id(tenant_id: str, sku: str, location_id: str) -> UUID:
        return StockItem.id_for(tenant_id, sku, location_id)

    @event("Created")
    def __init__(self, tenant_id: str, sku: str, location_id: str, at: datetime) -> None:
        self.tenant_id = tenant_id
        self.sku = sku
        self.location_id = location_id
        self.on_hand = 0
        self.reservations = {}
        self.created_at = at
        self.updated_at = at

    @classmethod
    def create(
        cls, tenant_id: str | UUID, sku: str, at: datetime, location_id: str = DEFAULT_LOCATION
    ) -> StockItem:
        """A new, empty stock item (id from ``id_for``)."""
        if not sku:
            raise InvalidValueError("a stock item needs a SKU")
        return cls(tenant_id=str(tenant_id), sku=sku, location_id=location_id, at=at)

    # Queries

    def reserved(self, at: datetime) -> int:
        """Units held by reservations that have not expired at ``at``."""
        return sum(r.quantity for r in self.reservations.values() if r.is_active(at))

    def available(self, at: datetime) -> int:
        """Units that can be reserved at ``at``."""
        return self.on_hand - self.reserved(at)

    def expired_reservations(self, at: datetime) -> list[UUID]:
        """Orders whose reservations have expired at ``at`` but are not released yet."""
        return [o for o, r in self.reservations.items() if not r.is_active(at)]

    def reservation(self, order_id: UUID) -> Reservation | None:
        return self.reservations.get(order_id)

    # Guards

    def check_available(self, quantity: int, at: datetime) -> None:
        available = self.available(at)
        if quantity > available:
            raise InsufficientStockError(self.sku, quantity, available)

    def _check_reservation(self, order_id: UUID) -> Reservation:
        reservation = self.reservations.get(order_id)
        if reservation is None:
            raise ReservationNotFoundError(self.sku, order_id)
        return reservation

    # Commands

    def receive(self, quantity: int, at: datetime) -> None:
        """Units arrived (a delivery, a transfer in)."""
        _check_positive(quantity)
        check_at_most("quantity", quantity, MAX_QUANTITY)
        check_at_most("on_hand", self.on_hand + quantity, MAX_ON_HAND)
        self._received(quantity=quantity, at=at)

    def adjust(
        self, reason: str, at: datetime, *, delta: int | None = None, counted: int | None = None
    ) -> None:
        """Corrects on-hand by ``delta``, or sets it to a physical ``counted`` quantity.

        A count equal to on-hand is still recorded (the count happened); a zero
        delta is refused as meaningless. On-hand may not drop below what active
        reservations hold: release those orders first.
        """
        if (delta is None) == (counted is None):
            raise InvalidValueError("adjust takes either delta or counted")
        if counted is not None:
            if isinstance(counted, bool) or not isinstance(counted, int) or counted < 0:
                raise InvalidValueError(f"counted quantity must be >= 0, got {counted!r}")
            delta = counted - self.on_hand
        assert delta is not None
        if (
            isinstance(delta, bool)
            or not isinstance(delta, int)
            or (delta == 0 and counted is None)
        ):
            raise InvalidValueError(f"delta must be a non-zero integer, got {delta!r}")
        if not reason:
            raise InvalidValueError("an adjustment needs a reason")
        if delta < 0:
            self.check_available(-delta, at)
        check_at_most(
            "counted" if counted is not None else "delta", self.on_hand + delta, MAX_ON_HAND
        )
        self._adjusted(delta=delta, counted=counted, reason=reason, at=at)

    def reserve(self, order_id: UUID, quantity: int, expires_at: datetime, at: datetime) -> None:
        """Holds units for an order until ``expires_at``.

        An order holds at most one reservation per stock item; an expired one
        not yet released is replaced.
        """
        _check_positive(quantity)
        if expires_at <= at:
            raise InvalidValueError("a reservation must expire after it is made")
        existing = self.reservations.get(order_id)
        if existing is not None and existing.is_active(at):
            raise ReservationExistsError(self.sku, order_id)
        self.check_available(quantity, at)
        self._reserved(order_id=order_id, quantity=quantity, expires_at=expires_at, at=at)

    def release(self, order_id: UUID, at: datetime) -> None:
        """Drops an order's reservation (cancelled, or expired: see ``expired``)."""
        reservation = self._check_reservation(order_id)
        self._released(
            order_id=order_id,
            quantity=reservation.quantity,
            expired=not reservation.is_active(at),
            at=at,
        )

    def commit(self, order_id: UUID, at: datetime) -> None:
        """Deducts an order's reserved units from on-hand (the order is paid).

        An expired reservation no longer holds its units, so committing it
        succeeds only if that many are still available.
        """
        reservation = self._check_reservation(order_id)
        if not reservation.is_active(at):
            self.check_available(reservation.quantity, at)
        self._committed(order_id=order_id, quantity=reservation.quantity, at=at)

    def restore(self, quantity: int, at: datetime, order_id: UUID | None = None) -> None:
        """Puts units back on hand (refund with restock); ``order_id`` says whose."""
        _check_positive(quantity)
        self._restored(quantity=quantity, order_id=order_id, at=at)

    # Events: deterministic state changes, replayed from the log

    @event("Received")
    def _received(self, quantity: int, at: datetime) -> None:
        self.on_hand += quantity
        self.updated_at = at

    @event("Adjusted")
    def _adjusted(self, delta: int, counted: int | None, reason: str, at: datetime) -> None:
        self.on_hand += delta
        self.updated_at = at

    @event("Reserved")
    def _reserved(self, order_id: UUID, quantity: int, expires_at: datetime, at: datetime) -> None:
        self.reservations[order_id] = Reservation(quantity, expires_at, at)
        self.updated_at = at

    @event("ReservationReleased")
    def _released(self, order_id: UUID, quantity: int, expired: bool, at: datetime) -> None:
        del self.reservations[order_id]
        self.updated_at = at

    @event("Committed")
    def _committed(self, order_id: UUID, quantity: int, at: datetime) -> None:
        del self.reservations[order_id]
        self.on_hand -= quantity
        self.updated_at = at

    @event("Restored")
    def _restored(self, quantity: int, order_id: UUID | None, at: datetime) -> None:
        self.on_hand += quantity
        self.updated_at = at
