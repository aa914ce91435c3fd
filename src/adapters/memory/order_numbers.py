"""Order numbers from counters in memory: one sequence per tenant, lost on restart."""

from __future__ import annotations

from collections import defaultdict

from commerce_core.shared.values import OrderNumber, format_order_number


class MemoryOrderNumbers:
    """Atomic because ``next`` never awaits between reading and bumping the counter."""

    def __init__(self) -> None:
        self._last: defaultdict[str, int] = defaultdict(int)

    async def next(self, tenant_id: str) -> OrderNumber:
        self._last[tenant_id] += 1
        return format_order_number(self._last[tenant_id])
