"""Clock and id ports: time and identity come from outside the domain."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID


class Clock(Protocol):
    """The current instant, timezone-aware UTC. Tests use a clock they move by hand."""

    def now(self) -> datetime: ...


class Ids(Protocol):
    """New unique ids for aggregates and records."""

    def new_id(self) -> UUID: ...
