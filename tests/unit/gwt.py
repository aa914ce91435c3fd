"""Given-when-then for aggregates: tests that read as specifications.

    spec = given(Order.place(...), lambda o: o.mark_paid(...))
    spec.when(lambda o: o.cancel("changed mind", at)).then("Cancelled")
    spec.when(lambda o: o.ship(...)).then_error(InvalidTransitionError)

Every event passes through the real ``EventMapper`` (JSON and back) when the
spec rebuilds the aggregate, so a spec also proves its events persist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import pytest
from eventsourcing.domain import Aggregate

from commerce_core.eventstore import EventMapper

A = TypeVar("A", bound=Aggregate)

_mapper = EventMapper()


def event_name(event: object) -> str:
    return type(event).__qualname__.rsplit(".", 1)[-1]


def payload(event: object) -> dict[str, Any]:
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    return {k: v for k, v in vars(event).items() if k not in skip}


class Spec(Generic[A]):
    def __init__(self, aggregate: A) -> None:
        self.aggregate = aggregate
        self.history: list[Any] = list(aggregate.collect_events())
        self.new: list[Any] = []
        self.error: BaseException | None = None

    def when(self, command: Callable[[A], object]) -> Spec[A]:
        self.new, self.error = [], None
        try:
            command(self.aggregate)
        except Exception as error:
            self.error = error
        self.new = list(self.aggregate.collect_events())
        self.history.extend(self.new)
        return self

    def then(self, *names: str) -> list[dict[str, Any]]:
        """Asserts the command recorded exactly these events; returns their payloads."""
        if self.error is not None:
            raise AssertionError(f"expected events {names}, got error {self.error!r}")
        assert [event_name(e) for e in self.new] == list(names)
        return [payload(e) for e in self.new]

    def then_error(self, error_type: type[BaseException]) -> BaseException:
        """Asserts the command was refused with this error and recorded nothing."""
        assert isinstance(self.error, error_type), f"expected {error_type}, got {self.error!r}"
        assert self.new == []
        return self.error

    def rebuilt(self) -> A:
        """The aggregate replayed from its whole history, through JSON and back."""
        aggregate: Any = None
        for event in self.history:
            stored = _mapper.to_stored_event(event)
            aggregate = _mapper.to_domain_event(stored).mutate(aggregate)  # type: ignore[attr-defined]
        return aggregate  # type: ignore[no-any-return]


def given(aggregate: A, *commands: Callable[[A], object]) -> Spec[A]:
    """An aggregate after these commands; their events become its history."""
    for command in commands:
        command(aggregate)
    return Spec(aggregate)


__all__ = ["Spec", "event_name", "given", "payload", "pytest"]
