"""Customer segments: pure rules over a customer's metrics at a given instant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from commerce_core.customers.segments import AT_RISK, HIGH_VALUE_NEW, VIP, SegmentRules
from commerce_core.projections.customer_metrics import CustomerMetrics
from commerce_core.projections.segments import segments_for

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
RULES = SegmentRules()


def metrics(
    orders: int = 1,
    spent: int = 5_000,
    first: timedelta = timedelta(days=200),
    first_total: int = 5_000,
    last: timedelta = timedelta(days=1),
) -> CustomerMetrics:
    """A customer whose first and last orders were ``first`` and ``last`` before NOW."""
    return CustomerMetrics(
        customer_id=uuid.uuid4(),
        currency="USD",
        total_orders=orders,
        total_spent=spent,
        first_order_at=NOW - first,
        first_order_total=first_total,
        last_order_at=NOW - last,
    )


def test_vip_needs_more_than_a_thousand_dollars_and_ten_orders() -> None:
    assert segments_for(metrics(orders=10, spent=100_001), RULES, NOW) == [VIP]
    assert segments_for(metrics(orders=10, spent=100_000), RULES, NOW) == []
    assert segments_for(metrics(orders=9, spent=500_000), RULES, NOW) == []


def test_at_risk_once_the_last_order_is_more_than_ninety_days_old() -> None:
    assert segments_for(metrics(last=timedelta(days=90, seconds=1)), RULES, NOW) == [AT_RISK]
    assert segments_for(metrics(last=timedelta(days=90)), RULES, NOW) == []


def test_high_value_new_needs_a_first_order_above_a_hundred_dollars_in_the_last_month() -> None:
    recent = timedelta(days=3)
    assert segments_for(metrics(first=recent, first_total=10_001), RULES, NOW) == [HIGH_VALUE_NEW]
    assert segments_for(metrics(first=recent, first_total=10_000), RULES, NOW) == []
    old = timedelta(days=31)
    assert segments_for(metrics(first=old, first_total=50_000), RULES, NOW) == []


def test_a_customer_who_never_bought_is_in_no_segment() -> None:
    nobody = CustomerMetrics(customer_id=uuid.uuid4(), currency="USD")

    assert segments_for(nobody, RULES, NOW) == []


def test_segments_are_listed_in_a_fixed_order() -> None:
    old_vip = metrics(
        orders=12,
        spent=250_000,
        first=timedelta(days=10),
        first_total=20_000,
        last=timedelta(days=0),
    )
    lapsed = metrics(orders=12, spent=250_000, last=timedelta(days=120))

    assert segments_for(old_vip, RULES, NOW) == [VIP, HIGH_VALUE_NEW]
    assert segments_for(lapsed, RULES, NOW) == [VIP, AT_RISK]


def test_a_tenant_can_change_every_threshold() -> None:
    rules = SegmentRules(
        vip_min_lifetime_value=1_000,
        vip_min_orders=2,
        high_value_min_first_order=500,
        new_customer_days=365,
        at_risk_after_days=30,
    )
    customer = metrics(orders=2, spent=1_001, first_total=501, last=timedelta(days=31))

    assert segments_for(customer, RULES, NOW) == []
    assert segments_for(customer, rules, NOW) == [VIP, HIGH_VALUE_NEW, AT_RISK]


def test_stored_rules_decode_with_defaults_and_refuse_nonsense() -> None:
    stored = b'{"currency": "EUR", "vip_min_orders": 5}'

    rules = msgspec.json.decode(stored, type=SegmentRules)

    assert rules == SegmentRules(currency="EUR", vip_min_orders=5)
    for bad in (b'{"vip_min_orders": -1}', b'{"currency": "XXX"}', b'{"vip": 1}'):
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(bad, type=SegmentRules)
