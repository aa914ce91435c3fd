"""Random sequences of stock commands and clock moves never break the stock invariants.

A plain model (a number and a dict) predicts each command's outcome; the
aggregate must agree with it, never go negative, keep ``reserved + available ==
on_hand`` at every instant, record nothing when it refuses, and rebuild from
its events (through JSON) to the same state.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from commerce_core.eventstore import EventMapper
from commerce_core.inventory.stock import (
    InsufficientStockError,
    ReservationExistsError,
    ReservationNotFoundError,
    StockItem,
)
from commerce_core.shared.errors import DomainError

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ORDERS = [uuid.UUID(int=n) for n in range(1, 5)]

orders = st.sampled_from(ORDERS)
quantities = st.integers(min_value=1, max_value=12)


class StockMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.mapper = EventMapper()
        self.now = T0
        self.item = StockItem.create("tenant-1", "SKU-1", T0)
        self.rebuilt: Any = None
        self.replay(self.item.collect_events())
        self.on_hand = 0
        self.reservations: dict[uuid.UUID, tuple[int, datetime]] = {}

    # The model

    def reserved_at(self, at: datetime) -> int:
        return sum(q for q, expires_at in self.reservations.values() if at < expires_at)

    def available_at(self, at: datetime) -> int:
        return self.on_hand - self.reserved_at(at)

    def attempt(self, command: Callable[[], None], refusal: type[DomainError] | None) -> None:
        """Runs a command the model expects to succeed (``refusal=None``) or be refused."""
        error: DomainError | None = None
        try:
            command()
        except DomainError as refused:
            error = refused
        if error is not None:
            assert refusal is not None, f"unexpected refusal {error!r}"
            assert isinstance(error, refusal), f"expected {refusal}, got {error!r}"
            assert self.item.collect_events() == [], "a refused command recorded events"
            return
        assert refusal is None, f"expected {refusal.__name__}, but it was accepted"
        new = self.item.collect_events()
        assert new, "an accepted command recorded nothing"
        self.replay(new)

    def replay(self, events: Sequence[Any]) -> None:
        """Applies events, through JSON and back, to a second copy built only from them."""
        for event in events:
            stored = self.mapper.to_stored_event(event)
            decoded: Any = self.mapper.to_domain_event(stored)
            self.rebuilt = decoded.mutate(self.rebuilt)

    # Rules

    @rule(quantity=quantities)
    def receive(self, quantity: int) -> None:
        self.attempt(lambda: self.item.receive(quantity, self.now), None)
        self.on_hand += quantity

    @rule(delta=st.integers(min_value=-15, max_value=15).filter(bool))
    def adjust_by_delta(self, delta: int) -> None:
        too_low = self.on_hand + delta < self.reserved_at(self.now)
        self.attempt(
            lambda: self.item.adjust("correction", self.now, delta=delta),
            InsufficientStockError if too_low else None,
        )
        if not too_low:
            self.on_hand += delta

    @rule(counted=st.integers(min_value=0, max_value=30))
    def count(self, counted: int) -> None:
        too_low = counted < self.reserved_at(self.now)
        self.attempt(
            lambda: self.item.adjust("count", self.now, counted=counted),
            InsufficientStockError if too_low else None,
        )
        if not too_low:
            self.on_hand = counted

    @rule(order=orders, quantity=quantities, minutes=st.integers(min_value=1, max_value=60))
    def reserve(self, order: uuid.UUID, quantity: int, minutes: int) -> None:
        expires_at = self.now + timedelta(minutes=minutes)
        existing = self.reservations.get(order)
        refusal: type[DomainError] | None = None
        if existing is not None and self.now < existing[1]:
            refusal = ReservationExistsError
        elif quantity > self.available_at(self.now):
            refusal = InsufficientStockError
        self.attempt(lambda: self.item.reserve(order, quantity, expires_at, self.now), refusal)
        if refusal is None:
            self.reservations[order] = (quantity, expires_at)

    @rule(order=orders)
    def release(self, order: uuid.UUID) -> None:
        known = order in self.reservations
        self.attempt(
            lambda: self.item.release(order, self.now),
            None if known else ReservationNotFoundError,
        )
        self.reservations.pop(order, None)

    @rule(order=orders)
    def commit(self, order: uuid.UUID) -> None:
        refusal: type[DomainError] | None = None
        if order not in self.reservations:
            refusal = ReservationNotFoundError
        else:
            quantity, expires_at = self.reservations[order]
            if expires_at <= self.now and quantity > self.available_at(self.now):
                refusal = InsufficientStockError
        self.attempt(lambda: self.item.commit(order, self.now), refusal)
        if refusal is None:
            self.on_hand -= self.reservations.pop(order)[0]

    @rule(quantity=quantities)
    def restore(self, quantity: int) -> None:
        self.attempt(lambda: self.item.restore(quantity, self.now), None)
        self.on_hand += quantity

    @rule(minutes=st.integers(min_value=0, max_value=45))
    def advance_the_clock(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    # Invariants

    @invariant()
    def never_negative_and_reserved_plus_available_is_on_hand(self) -> None:
        item = self.item
        assert item.on_hand == self.on_hand >= 0
        # now, and each instant from now on at which a reservation stops counting
        instants = [self.now, *sorted(e for _, e in self.reservations.values() if e >= self.now)]
        for at in instants:
            assert item.reserved(at) == self.reserved_at(at) >= 0
            assert item.available(at) >= 0
            assert item.reserved(at) + item.available(at) == item.on_hand
        expired = {o for o, (_, e) in self.reservations.items() if e <= self.now}
        assert set(item.expired_reservations(self.now)) == expired

    @invariant()
    def rebuilding_from_events_gives_the_same_state(self) -> None:
        assert vars(self.rebuilt) == vars(self.item)


TestStockInvariants = StockMachine.TestCase
