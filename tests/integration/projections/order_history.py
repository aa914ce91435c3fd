"""A history of many orders, made by real ``Order`` aggregates and saved by a ``Repository``.

Orders follow one of a dozen lifecycles (unpaid, failed and retried payments,
part payments, refunds, cancellations, shipments, disputes won and lost); each
command records one event. Several writers save concurrently, each a tenant's
orders in waves: a wave's orders are placed in a few appends of many orders,
then each further step of their lifecycles is saved the same way, so the
global order interleaves tenants, orders and kinds of event, and an order's
events span transactions. The aggregates it returns are the oracle: what every
order's row must say once a projection has seen everything.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from commerce_core.eventstore import EventMetadata, EventStore, Repository
from commerce_core.ordering.order import (
    Channel,
    DisputeOutcome,
    LineSpec,
    Order,
    OrderStatus,
    price_order,
)
from commerce_core.shared.money import Money
from commerce_core.shared.values import Sku, format_order_number

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
WAVE = 120  # orders a writer takes through their whole lifecycles before the next ones
CHUNK = 40  # orders saved per append

Step = Callable[[Order, datetime], None]


def _pay_all(order: Order, at: datetime) -> None:
    order.mark_paid(order.outstanding, uuid.uuid4(), at)


def _pay_half(order: Order, at: datetime) -> None:
    order.mark_paid(Money(order.outstanding.amount // 2, order.currency), uuid.uuid4(), at)


def _fail_payment(order: Order, at: datetime) -> None:
    order.mark_payment_failed("card declined", at)


def _cancel(order: Order, at: datetime) -> None:
    order.cancel("changed mind", at)


def _refund_third(order: Order, at: datetime) -> None:
    order.record_refund(Money(order.refundable.amount // 3, order.currency), at)


def _refund_rest(order: Order, at: datetime) -> None:
    order.record_refund(order.refundable, at)


def _process(order: Order, at: datetime) -> None:
    order.change_status(OrderStatus.PROCESSING, at, "staff")


def _ship(order: Order, at: datetime) -> None:
    order.record_shipment(uuid.uuid4(), None, at)


def _deliver(order: Order, at: datetime) -> None:
    order.mark_delivered(at)


def _dispute(order: Order, at: datetime) -> None:
    order.open_dispute("fraudulent", at)


def _lose_dispute(order: Order, at: datetime) -> None:
    order.close_dispute(DisputeOutcome.LOST, at)


def _win_dispute(order: Order, at: datetime) -> None:
    order.close_dispute(DisputeOutcome.WON, at)


LIFECYCLES: list[list[Step]] = [
    [],
    [_fail_payment],
    [_fail_payment, _pay_all],
    [_pay_all],
    [_pay_half, _pay_all],
    [_pay_all, _refund_third],
    [_pay_all, _refund_third, _refund_rest],
    [_cancel],
    [_pay_all, _cancel, _refund_rest],
    [_pay_all, _process, _ship, _deliver],
    [_pay_all, _dispute, _lose_dispute],
    [_pay_all, _ship, _dispute, _win_dispute],
]
"""What happens to an order after it is placed: one event per step."""


class _Clock:
    """Ever later instants, one per command, so times are distinct and ordered per writer."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def tick(self) -> datetime:
        self._now += timedelta(seconds=7)
        return self._now


def _place(rng: random.Random, tenant: str, number: int, customers: list[uuid.UUID]) -> Order:
    quantity = rng.randint(1, 4)
    priced = price_order(
        [
            LineSpec(
                sku=Sku("MUG-1"), name="Mug", quantity=quantity, unit_price=Money(1250, "EUR")
            ),
            LineSpec(
                sku=Sku("TEA-9"),
                name="Tea",
                quantity=1,
                unit_price=Money(rng.randint(1, 99) * 100, "EUR"),
            ),
        ],
        "EUR",
        shipping=Money(490, "EUR"),
    )
    return Order.place(
        id=uuid.uuid4(),
        tenant_id=tenant,
        number=format_order_number(number),
        customer_id=rng.choice(customers),
        priced=priced,
        at=T0 + timedelta(minutes=number),
        channel=rng.choice(list(Channel)),
    )


async def _write(
    repository: Repository,
    tenant: str,
    plans: list[tuple[int, list[Step]]],
    rng: random.Random,
    clock: _Clock,
) -> list[Order]:
    customers = [uuid.uuid4() for _ in range(50)]
    metadata = EventMetadata(tenant_id=tenant, actor="order-history")
    done: list[Order] = []
    for start in range(0, len(plans), WAVE):
        wave = plans[start : start + WAVE]
        orders = [_place(rng, tenant, number, customers) for number, _ in wave]
        for stage in range(1 + max(len(steps) for _, steps in wave)):
            moved = []
            for order, (_, steps) in zip(orders, wave, strict=True):
                if stage == 0:
                    moved.append(order)
                elif stage <= len(steps):
                    steps[stage - 1](order, clock.tick())
                    moved.append(order)
            for first in range(0, len(moved), CHUNK):
                await repository.save(*moved[first : first + CHUNK], metadata=metadata)
        done += orders
    return done


async def write_order_history(
    store: EventStore,
    events: int,
    *,
    writers: int = 4,
    tenants: int = 3,
    seed: int = 0,
    first_number: int = 1,
) -> list[Order]:
    """Saves orders until exactly ``events`` events are stored; returns the orders as saved.

    Writer ``n`` writes tenant ``tenant-{n % tenants}``'s orders; ``first_number``
    numbers the first order, so a second history can follow a first one.
    """
    rng = random.Random(seed)
    plans: list[tuple[int, list[Step]]] = []
    left = events
    while left > 0:
        steps = rng.choice(LIFECYCLES)[: left - 1]  # the last order may be cut short
        plans.append((first_number + len(plans), steps))
        left -= 1 + len(steps)
    repository = Repository(store)
    jobs: list[Any] = [
        _write(
            repository,
            f"tenant-{n % tenants}",
            plans[n::writers],
            random.Random(rng.random()),
            _Clock(T0 + timedelta(days=n)),
        )
        for n in range(writers)
    ]
    written = await asyncio.gather(*jobs)
    return [order for orders in written for order in orders]


def order_list_row(order: Order) -> dict[str, Any]:
    """What the order list must hold for ``order``, from the aggregate's own state."""
    return {
        "tenant_id": order.tenant_id,
        "order_id": order.id,
        "number": order.number,
        "status": order.status.value,
        "customer_id": order.customer_id,
        "currency": order.currency,
        "total": order.totals.total.amount,
        "paid": order.paid.amount,
        "refunded": order.refunded.amount,
        "channel": order.channel.value,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
    }
