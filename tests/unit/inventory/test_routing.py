"""Order routing (ADR 0031): fewest shipments, then nearest, then priority, then id."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commerce_core.inventory.routing import (
    NoFulfilmentPlanError,
    PlannedShipment,
    Source,
    nearness,
    plan_fulfilment,
    rank,
)
from commerce_core.shared.values import Address, Sku, SkuQuantity


def address(country: str = "US", region: str | None = "CA", postal: str = "94107") -> Address:
    return Address(
        name="Dock",
        line1="1 Main St",
        city="Town",
        postal_code=postal,
        country=country,
        region=region,
    )


SF = address("US", "CA", "94107")


def source(
    location_id: str,
    at: Address | None = None,
    ships: bool = True,
    priority: int | None = 100,
    **units: int,
) -> Source:
    return Source(
        location_id=location_id, available=units, address=at, ships=ships, priority=priority
    )


def lines(**units: int) -> list[SkuQuantity]:
    return [SkuQuantity(Sku(sku), n) for sku, n in units.items()]


def shipped_from(plan: list[PlannedShipment]) -> list[str]:
    return [p.location_id for p in plan]


def test_one_location_with_everything_ships_alone_even_when_farther() -> None:
    near = source("near", SF, A=1, B=1)
    far = source("far", address("DE", None, "10115"), A=5, B=5)

    plan = plan_fulfilment(lines(A=2, B=2), [near, far], SF)

    assert plan == [
        PlannedShipment(
            location_id="far", lines=(SkuQuantity(Sku("A"), 2), SkuQuantity(Sku("B"), 2))
        )
    ]


def test_the_nearest_of_two_complete_locations_wins() -> None:
    same_country = source("ny", address("US", "NY", "10001"), A=5)
    same_region = source("la", address("US", "CA", "90001"), A=5)
    same_prefix = source("oakland", address("US", "CA", "94612"), A=5)

    plan = plan_fulfilment(lines(A=1), [same_country, same_region, same_prefix], SF)

    assert shipped_from(plan) == ["oakland"]


def test_same_country_beats_another_country_with_a_longer_postal_match() -> None:
    abroad = source("abroad", address("CA", "CA", "94107"), A=5)
    home = source("home", address("US", "NY", "10001"), A=5)

    assert shipped_from(plan_fulfilment(lines(A=1), [abroad, home], SF)) == ["home"]


def test_priority_then_id_break_ties_in_distance() -> None:
    spot = address("US", "CA", "94107")
    low = source("b", spot, priority=1, A=5)
    high = source("a", spot, priority=2, A=5)
    twin = source("c", spot, priority=1, A=5)

    assert shipped_from(plan_fulfilment(lines(A=1), [high, twin, low], SF)) == ["b"]


def test_an_undeclared_location_ranks_after_declared_ones() -> None:
    undeclared = source("default", None, priority=None, A=5)
    declared = source("zz", None, priority=10_000, A=5)

    assert shipped_from(plan_fulfilment(lines(A=1), [undeclared, declared], None)) == ["zz"]


def test_a_location_that_does_not_ship_is_skipped() -> None:
    store = source("store", SF, ships=False, A=5)
    depot = source("depot", address("US", "NY", "10001"), A=5)

    assert shipped_from(plan_fulfilment(lines(A=3), [store, depot], SF)) == ["depot"]


def test_a_basket_no_location_has_in_full_is_split_over_the_fewest_locations() -> None:
    a_only = source("a-only", SF, A=5)
    b_only = source("b-only", SF, B=5)
    both_but_few = source("both", address("US", "NY", "10001"), A=1, B=5)
    plan = plan_fulfilment(lines(A=3, B=2), [a_only, b_only, both_but_few], SF)

    assert len(plan) == 2
    assert sorted(shipped_from(plan)) == ["a-only", "b-only"]


def test_no_plan_names_every_short_sku_counting_only_shipping_locations() -> None:
    store = source("store", SF, ships=False, A=10, B=10)
    depot = source("depot", SF, A=1, B=10, C=1)

    with pytest.raises(NoFulfilmentPlanError) as refused:
        plan_fulfilment(lines(A=2, B=3, C=2), [store, depot], SF)

    assert refused.value.skus == ["A", "C"]
    assert (refused.value.sku, refused.value.requested, refused.value.available) == ("A", 2, 1)


def test_nearness_counts_the_shared_postal_prefix_ignoring_spaces_and_case() -> None:
    here = address("GB", "LND", "SW1A 1AA")
    there = address("GB", "lnd", "sw1a-2bb")

    assert nearness(here, there) == (1, 1, 4)
    assert nearness(here, None) == (0, 0, 0)


# -- properties ----------------------------------------------------------------------------

SKUS = ["A", "B", "C"]
PLACES = [
    address("US", "CA", "94107"),
    address("US", "CA", "90001"),
    address("US", "NY", "10001"),
    address("DE", None, "10115"),
    None,
]

sources_st = st.lists(
    st.builds(
        lambda i, at, ships, priority, units: Source(
            location_id=f"loc-{i}", available=units, address=at, ships=ships, priority=priority
        ),
        st.integers(0, 10**6),
        st.sampled_from(PLACES),
        st.booleans(),
        st.one_of(st.none(), st.integers(0, 3)),
        st.dictionaries(st.sampled_from(SKUS), st.integers(0, 6)),
    ),
    max_size=6,
    unique_by=lambda s: s.location_id,
)
basket_st = st.dictionaries(st.sampled_from(SKUS), st.integers(1, 8), min_size=1)


def try_plan(basket: dict[str, int], sources: list[Source]) -> list[PlannedShipment] | None:
    try:
        return plan_fulfilment(lines(**basket), sources, SF)
    except NoFulfilmentPlanError:
        return None


@given(basket_st, sources_st)
def test_every_unit_is_planned_exactly_once_from_what_shipping_locations_have(
    basket: dict[str, int], sources: list[Source]
) -> None:
    plan = try_plan(basket, sources)
    by_id = {s.location_id: s for s in sources}
    shipping_total = {
        sku: sum(s.available.get(sku, 0) for s in sources if s.ships) for sku in basket
    }
    if plan is None:
        assert any(shipping_total[sku] < n for sku, n in basket.items())
        return
    planned: Counter[str] = Counter()
    for shipment in plan:
        location = by_id[shipment.location_id]
        assert location.ships
        assert shipment.lines
        for line in shipment.lines:
            assert 0 < line.quantity <= location.available.get(line.sku, 0)
            planned[line.sku] += line.quantity
    assert planned == Counter(basket)
    assert len(set(shipped_from(plan))) == len(plan)


@given(basket_st, sources_st)
def test_never_split_when_one_shipping_location_has_everything(
    basket: dict[str, int], sources: list[Source]
) -> None:
    complete = [
        s
        for s in sources
        if s.ships and all(s.available.get(sku, 0) >= n for sku, n in basket.items())
    ]
    plan = try_plan(basket, sources)
    if complete:
        assert plan is not None
        assert len(plan) == 1
        assert plan[0].location_id in {s.location_id for s in complete}


@given(basket_st, sources_st)
def test_the_chosen_single_location_is_the_nearest_complete_one(
    basket: dict[str, int], sources: list[Source]
) -> None:
    complete = [
        s
        for s in sources
        if s.ships and all(s.available.get(sku, 0) >= n for sku, n in basket.items())
    ]
    plan = try_plan(basket, sources)
    if plan and len(plan) == 1:
        chosen = next(s for s in sources if s.location_id == plan[0].location_id)
        assert all(nearness(chosen.address, SF) >= nearness(s.address, SF) for s in complete)


@given(basket_st, sources_st)
def test_no_smaller_set_of_shipping_locations_could_have_shipped_the_basket(
    basket: dict[str, int], sources: list[Source]
) -> None:
    plan = try_plan(basket, sources)
    if plan is None:
        return
    shipping = [s for s in sources if s.ships]
    for smaller in combinations(shipping, len(plan) - 1):
        assert not all(
            sum(s.available.get(sku, 0) for s in smaller) >= n for sku, n in basket.items()
        )


@given(basket_st, sources_st)
def test_among_sets_of_the_fewest_locations_the_nearest_ranked_one_ships(
    basket: dict[str, int], sources: list[Source]
) -> None:
    plan = try_plan(basket, sources)
    if plan is None:
        return
    by_id = {s.location_id: s for s in sources}

    def ranks(locations: Iterable[Source]) -> list[tuple[int, int, int, int, str]]:
        return sorted(rank(s, SF) for s in locations)

    chosen = ranks(by_id[p.location_id] for p in plan)
    shipping = [s for s in sources if s.ships]
    for same_size in combinations(shipping, len(plan)):
        if all(sum(s.available.get(sku, 0) for s in same_size) >= n for sku, n in basket.items()):
            assert chosen <= ranks(same_size)
