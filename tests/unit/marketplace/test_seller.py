"""The Seller aggregate: its account, and the gateway's word on it, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core.marketplace.seller import Seller
from commerce_core.shared.errors import InvalidValueError

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def opened() -> Seller:
    return Seller.open("t1", "seller-1", "stripe", "acct_1", "gb", AT)


def test_a_seller_opens_with_nothing_enabled_and_its_country_in_capitals() -> None:
    seller = opened()

    assert seller.id == Seller.id_for("t1", "seller-1")
    assert (seller.country, seller.account_id) == ("GB", "acct_1")
    assert (seller.charges_enabled, seller.payouts_enabled, seller.details_submitted) == (
        False,
        False,
        False,
    )
    assert (seller.requirements_due, seller.state_as_of) == ((), None)


def test_the_same_seller_id_of_two_tenants_is_two_sellers() -> None:
    assert Seller.id_for("t1", "seller-1") != Seller.id_for("t2", "seller-1")


@pytest.mark.parametrize(
    ("seller_id", "country"),
    [("", "GB"), ("-starts-with-dash", "GB"), ("has space", "GB"), ("s1", "XX"), ("s1", "GBR")],
)
def test_a_bad_seller_id_or_country_is_refused(seller_id: str, country: str) -> None:
    with pytest.raises(InvalidValueError):
        Seller.open("t1", seller_id, "stripe", "acct_1", country, AT)


def test_the_gateway_s_state_is_recorded_with_what_it_still_needs() -> None:
    seller = opened()

    kept = seller.record_account_state(
        True, False, True, AT, "evt_1", AT, requirements_due=["external_account"]
    )

    assert kept
    assert (seller.charges_enabled, seller.payouts_enabled, seller.details_submitted) == (
        True,
        False,
        True,
    )
    assert (seller.requirements_due, seller.state_event_id) == (("external_account",), "evt_1")


def test_an_older_state_or_the_same_one_again_records_nothing() -> None:
    seller = opened()
    seller.record_account_state(True, True, True, AT + timedelta(seconds=5), "evt_2", AT)
    seller.collect_events()

    older = seller.record_account_state(False, False, False, AT, "evt_1", AT)
    again = seller.record_account_state(False, False, True, AT + timedelta(seconds=5), "evt_2", AT)

    assert (older, again) == (False, False)
    assert seller.collect_events() == []
    assert seller.charges_enabled


State = tuple[bool, bool, bool, int, str]
states = st.lists(
    st.tuples(
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.integers(0, 5),  # seconds: several states in the same second
        st.sampled_from(["evt_a", "evt_b", "evt_c", "evt_d"]),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda s: (s[3], s[4]),  # a gateway event has one state
)


@given(states=states, data=st.data())
def test_the_newest_state_wins_whatever_the_order_and_repeats(
    states: list[State], data: st.DataObject
) -> None:
    delivered = data.draw(st.permutations(states + states))
    seller = opened()

    for charges, payouts, details, seconds, event_id in delivered:
        seller.record_account_state(
            charges, payouts, details, AT + timedelta(seconds=seconds), event_id, AT
        )

    newest = max(states, key=lambda s: (s[3], s[4]))
    final = (
        seller.charges_enabled,
        seller.payouts_enabled,
        seller.details_submitted,
        seller.state_as_of,
        seller.state_event_id,
    )
    assert final == (*newest[:3], AT + timedelta(seconds=newest[3]), newest[4])
