"""``uuid5`` remembered: the ids derived from a tenant and a SKU (products, stock items,
SKU locations), from a tenant (its location and zone books) or from an order (its ledger)
are derived again on every request that touches them, a SHA-1 each; the same names come
back all the time, and a dictionary look-up is a tenth of the hash (ADR 0050)."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

derived_id = lru_cache(maxsize=16_384)(uuid5)
"""``uuid5(namespace, name)``, the last 16,384 answers kept (a few MB at most)."""

__all__ = ["UUID", "derived_id"]
