"""Hypothesis strategies: random batches of changes on the ``Things`` tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from commerce_core.projections import Change, Delete, Increment, SetMax, SetMin, Upsert

IDS = [UUID(int=n) for n in (1, 2, 3)]
TENANTS = ["ta", "tb"]

texts = st.sampled_from(["", "a", "B", "b", "Zed", "ä", "日本"])
ints = st.integers(-(2**40), 2**40)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
docs = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "label": st.none() | texts,
    "count": st.none() | ints,
    "total": st.none() | ints,
    "score": st.none() | ints,
    "flag": st.none() | st.booleans(),
    "at": st.none() | times,
    "ref": st.none() | st.uuids(),
    "doc": docs,
}
COMPARABLE: dict[str, st.SearchStrategy[Any]] = {  # the columns without a default
    "label": texts,
    "total": ints,
    "at": times,
    "ref": st.uuids(),
}


def keys(tenants: list[str] = TENANTS) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda t, i: {"tenant_id": t, "thing_id": i},
        st.sampled_from(tenants),
        st.sampled_from(IDS),
    )


def upserts(tenants: list[str]) -> st.SearchStrategy[Change]:
    columns = st.lists(st.sampled_from(sorted(VALUES)), unique=True, max_size=3)
    return st.builds(
        lambda k, values: Upsert("things", k, values),
        keys(tenants),
        columns.flatmap(lambda cs: st.fixed_dictionaries({c: VALUES[c] for c in cs})),
    )


def increments(tenants: list[str]) -> st.SearchStrategy[Change]:
    deltas = st.dictionaries(st.sampled_from(["count", "total", "score"]), ints, min_size=1)
    return st.builds(lambda k, d: Increment("things", k, d), keys(tenants), deltas)


def extremes(tenants: list[str]) -> st.SearchStrategy[Change]:
    column = st.sampled_from(sorted(COMPARABLE))
    return st.builds(
        lambda kind, k, pair: kind("things", k, pair[0], pair[1]),
        st.sampled_from([SetMax, SetMin]),
        keys(tenants),
        column.flatmap(lambda c: st.tuples(st.just(c), COMPARABLE[c])),
    )


def deletes(tenants: list[str]) -> st.SearchStrategy[Change]:
    return st.builds(lambda k: Delete("things", k), keys(tenants))


def changes(tenants: list[str] = TENANTS, max_size: int = 40) -> st.SearchStrategy[list[Change]]:
    one = upserts(tenants) | increments(tenants) | extremes(tenants) | deletes(tenants)
    return st.lists(one, max_size=max_size)
