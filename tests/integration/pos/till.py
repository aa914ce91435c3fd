"""The test's hand at a POS: sales rung up, fulfilments moved, counts read, webhooks signed."""

from __future__ import annotations

from typing import Protocol

from commerce_core.channels.ports import PosFulfilmentState


class Till(Protocol):
    location_id: str

    def ring_up(self, lines: list[tuple[str, int, int]]) -> str:
        """A sale paid in full: ``(sku, quantity, unit price in cents)`` lines; its id."""
        ...

    def item_id(self, sku: str) -> str:
        """The POS's id of the item sold under ``sku``."""
        ...

    def move_fulfilment(self, external_id: str, state: PosFulfilmentState) -> None: ...

    def count(self, item_id: str) -> int | None: ...

    def signed_delivery(self, event_id: str, external_id: str) -> tuple[bytes, dict[str, str]]: ...
