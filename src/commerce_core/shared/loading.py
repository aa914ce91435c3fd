"""Loading an aggregate for one tenant only.

An aggregate of another tenant is reported as not found
(``AggregateNotFoundError``), exactly like one that does not exist.
"""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from commerce_core.eventstore import AggregateNotFoundError, Repository

A = TypeVar("A", bound=Aggregate)


async def load_owned(repo: Repository, tenant_id: str, aggregate_id: UUID, kind: type[A]) -> A:
    """The aggregate, if it is a ``kind`` of ``tenant_id``; otherwise ``AggregateNotFoundError``."""
    aggregate = await repo.get(aggregate_id, kind=kind)
    if getattr(aggregate, "tenant_id", None) != tenant_id:
        raise AggregateNotFoundError(aggregate_id, kind)
    return aggregate


async def find_owned(
    repo: Repository, tenant_id: str, aggregate_id: UUID, kind: type[A]
) -> A | None:
    try:
        return await load_owned(repo, tenant_id, aggregate_id, kind)
    except AggregateNotFoundError:
        return None
