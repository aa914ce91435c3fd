"""How runners share the projections out (ADR 0054)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from commerce_core.projections import Peers


@given(st.integers(1, 64), st.integers(0, 1_000))
def test_every_projection_belongs_to_exactly_one_runner_present(count: int, index: int) -> None:
    owners = [rank for rank in range(count) if Peers(rank, count).prefers(index)]
    assert len(owners) == 1


@given(st.integers(1, 16), st.integers(1, 64))
def test_shares_differ_by_one_projection_at_most(count: int, projections: int) -> None:
    shares = [
        sum(Peers(rank, count).prefers(i) for i in range(projections)) for rank in range(count)
    ]
    assert max(shares) - min(shares) <= 1


def test_a_runner_alone_has_every_projection() -> None:
    assert all(Peers().prefers(i) for i in range(20))
