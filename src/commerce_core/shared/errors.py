"""Domain errors. They name what went wrong in business terms, never an HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; the aggregate recorded nothing."""


class InvalidValueError(DomainError, ValueError):
    """A value object was given a value it cannot hold (negative quantity, bad currency)."""


class CurrencyMismatchError(InvalidValueError):
    """Arithmetic between amounts of different currencies."""


class InvalidTransitionError(DomainError):
    """The aggregate's state machine does not allow this change from its current state.

    ``name`` is how people know this aggregate (an order's number), when it has one.
    """

    def __init__(self, kind: str, current: str, target: str, *, name: str | None = None) -> None:
        super().__init__(f"{kind} {name + ' ' if name else ''}cannot go from {current} to {target}")
        self.kind = kind
        self.current = current
        self.target = target
        self.name = name
