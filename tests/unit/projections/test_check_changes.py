"""A batch's changes checked by kind and column refuse exactly what one by one refuses."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from commerce_core.projections import (
    Change,
    Increment,
    InvalidChangeError,
    SetMax,
    Upsert,
    check_change,
    check_changes,
)
from tests.unit.projections.strategies import TENANTS, changes, keys
from tests.unit.projections.things import TAGS, THINGS

TABLES = {THINGS.name: THINGS, TAGS.name: TAGS}
ID = UUID(int=1)

POISON: list[Change] = [
    Upsert("things", {"tenant_id": "ta", "thing_id": ID}, {"label": "nul\x00"}),
    Upsert("things", {"tenant_id": "ta", "thing_id": ID}, {"count": True}),
    Upsert("things", {"tenant_id": "ta", "thing_id": ID}, {"count": 2**63}),
    Upsert("things", {"tenant_id": "ta", "thing_id": ID}, {"at": datetime(2026, 1, 1)}),
    Upsert("things", {"tenant_id": "ta", "thing_id": ID}, {"ref": str(ID)}),
    Upsert("things", {"tenant_id": "ta", "thing_id": ID}, {"flag": 1}),
    Upsert("things", {"tenant_id": "ta", "thing_id": ID}, {"nope": 1}),
    Upsert("things", {"tenant_id": "ta", "thing_id": str(ID)}, {"count": 1}),
    Upsert("things", {"tenant_id": None, "thing_id": ID}, {"count": 1}),
    Upsert("things", {"tenant_id": "ta"}, {"count": 1}),
    Upsert("nowhere", {"tenant_id": "ta", "thing_id": ID}, {"count": 1}),
    Increment("things", {"tenant_id": "ta", "thing_id": ID}, {"label": 1}),
    Increment("things", {"tenant_id": "ta", "thing_id": ID}, {}),
    SetMax("things", {"tenant_id": "ta", "thing_id": ID}, "total", None),
    SetMax("things", {"tenant_id": "ta", "thing_id": ID}, "count", 3),
]


def first_refusal(batch: list[Change]) -> str | None:
    for change in batch:
        try:
            check_change(change, TABLES)
        except InvalidChangeError as error:
            return str(error)
    return None


def refusal(batch: list[Change]) -> str | None:
    try:
        check_changes(batch, TABLES)
    except InvalidChangeError as error:
        return str(error)
    return None


@given(
    changes(TENANTS, max_size=30),
    st.lists(st.tuples(st.integers(0, 30), st.sampled_from(POISON)), max_size=2),
)
def test_a_batch_is_refused_for_the_first_change_one_by_one_refuses(
    batch: list[Change], poison: list[tuple[int, Change]]
) -> None:
    for at, change in poison:
        batch.insert(min(at, len(batch)), change)

    assert refusal(batch) == first_refusal(batch)


@given(keys(TENANTS), st.sampled_from(POISON))
def test_every_poison_is_refused_among_good_changes_of_its_kind(
    key: dict[str, Any], bad: Change
) -> None:
    good: list[Change] = [
        Upsert("things", key, {"count": 1}),
        Increment("things", key, {"count": 2}),
    ]

    assert refusal([*good, bad, *good]) == first_refusal([bad]) is not None
