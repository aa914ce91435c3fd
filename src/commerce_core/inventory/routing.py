"""Order routing: which locations ship which units of an order (ADR 0031).

The policy, in order of precedence:
1. **Fewest shipments**: the smallest set of locations that together have every
   unit. One location that has everything is always chosen alone.
2. **Nearest to the shipping address**: same country, then same region, then the
   longest postal-code prefix shared with the address. Between two sets of the same
   size, the one whose nearest location is nearer wins, then its second, and so on.
3. **Priority** (lower ships first), then **location id**, to break exact ties.

Only locations that ship take part; a location nobody declared ships, has no
address and ranks after every declared location. Within the chosen set each line
takes its units from the best-ranked location first. Finding the smallest set is
a set cover: it is searched exactly over up to ``EXACT_SEARCH_LIMIT`` sets of
locations, then greedily (the location that covers most of what is left).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import msgspec

from commerce_core.inventory.location_book import MAX_PRIORITY
from commerce_core.inventory.stock import InsufficientStockError
from commerce_core.shared.values import Address, SkuQuantity

EXACT_SEARCH_LIMIT = 5_000
"""Sets of locations examined for the fewest shipments before falling back to greedy."""


class PlannedShipment(msgspec.Struct, frozen=True, kw_only=True):
    """The units one location ships for an order."""

    location_id: str
    lines: tuple[SkuQuantity, ...]


@dataclass(frozen=True, kw_only=True)
class Source:
    """A location as routing sees it: units available now, where it is, whether it ships.

    ``priority`` ``None``: a location nobody declared (after every declared one)."""

    location_id: str
    available: Mapping[str, int]
    address: Address | None = None
    ships: bool = True
    priority: int | None = None

    def has(self, sku: str) -> int:
        return max(self.available.get(sku, 0), 0)


@dataclass(frozen=True)
class Shortage:
    sku: str
    requested: int
    available: int


class NoFulfilmentPlanError(InsufficientStockError):
    """Locations that ship do not hold enough units of these SKUs together."""

    def __init__(self, shortages: Sequence[Shortage]) -> None:
        first = shortages[0]
        super().__init__(first.sku, first.requested, first.available)
        self.shortages = list(shortages)
        self.skus = [s.sku for s in shortages]
        self.args = (
            "not enough stock at the locations that ship: "
            + ", ".join(
                f"{s.sku} ({s.requested} requested, {s.available} available)" for s in shortages
            ),
        )


def _postal(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def nearness(address: Address | None, destination: Address | None) -> tuple[int, int, int]:
    """(same country, same region, shared postal prefix length): larger is nearer."""
    if address is None or destination is None or address.country != destination.country:
        return (0, 0, 0)
    region = address.region or ""
    same_region = bool(region) and region.upper() == (destination.region or "").upper()
    ours, theirs = _postal(address.postal_code), _postal(destination.postal_code)
    shared = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), None)
    prefix = min(len(ours), len(theirs)) if shared is None else shared
    return (1, int(same_region), prefix)


def rank(source: Source, destination: Address | None) -> tuple[int, int, int, int, str]:
    """Sorts locations best first: nearest, then lowest priority, then id."""
    country, region, prefix = nearness(source.address, destination)
    priority = MAX_PRIORITY + 1 if source.priority is None else source.priority
    return (-country, -region, -prefix, priority, source.location_id)


def _covers(sources: Sequence[Source], wanted: Mapping[str, int]) -> bool:
    return all(sum(s.has(sku) for s in sources) >= n for sku, n in wanted.items())


def _greedy(ranked: Sequence[Source], wanted: Mapping[str, int]) -> list[Source]:
    left, chosen = dict(wanted), []
    while any(left.values()):
        _units, index = max(
            (sum(min(s.has(sku), n) for sku, n in left.items()), -i)
            for i, s in enumerate(ranked)
            if s not in chosen
        )
        best = ranked[-index]
        chosen.append(best)
        for sku in left:
            left[sku] -= min(best.has(sku), left[sku])
    return sorted(chosen, key=ranked.index)


def _sets(ranked: Sequence[Source]) -> Iterator[tuple[Source, ...]]:
    """Every set of locations, smallest first, best-ranked first within a size."""
    for size in range(1, len(ranked) + 1):
        yield from combinations(ranked, size)


def _fewest(ranked: Sequence[Source], wanted: Mapping[str, int]) -> Sequence[Source]:
    for examined, chosen in enumerate(_sets(ranked)):
        if examined >= EXACT_SEARCH_LIMIT:
            break
        if _covers(chosen, wanted):
            return chosen
    return _greedy(ranked, wanted)


def plan_fulfilment(
    lines: Sequence[SkuQuantity], sources: Sequence[Source], destination: Address | None
) -> list[PlannedShipment]:
    """The locations that ship each unit of ``lines``, best-ranked first.

    ``NoFulfilmentPlanError`` names every SKU the shipping locations lack units of.
    """
    wanted: dict[str, int] = {line.sku: line.quantity for line in lines}
    ranked = sorted(
        (s for s in sources if s.ships and any(s.has(sku) for sku in wanted)),
        key=lambda s: rank(s, destination),
    )
    short = [
        Shortage(sku, n, total)
        for sku, n in wanted.items()
        if (total := sum(s.has(sku) for s in ranked)) < n
    ]
    if short:
        raise NoFulfilmentPlanError(short)
    plan: dict[str, list[SkuQuantity]] = {}
    chosen = _fewest(ranked, wanted)
    for line in lines:
        left = line.quantity
        for source in chosen:
            part = min(left, source.has(line.sku))
            if part > 0:
                plan.setdefault(source.location_id, []).append(SkuQuantity(line.sku, part))
                left -= part
    return [
        PlannedShipment(location_id=s.location_id, lines=tuple(plan[s.location_id]))
        for s in chosen
        if s.location_id in plan
    ]
