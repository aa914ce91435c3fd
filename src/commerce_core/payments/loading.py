"""Loading a payment, or every payment of an order, for one tenant only."""

from __future__ import annotations

from uuid import UUID

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.payments.payment import Payment
from commerce_core.shared.loading import load_owned


async def load_payment(repo: Repository, tenant_id: str, payment_id: UUID) -> Payment:
    return await load_owned(repo, tenant_id, payment_id, Payment)


async def load_payments(repo: Repository, ledger: OrderLedger) -> list[Payment]:
    """Every payment attempt of the order, oldest first, loaded in one read."""
    if not ledger.payment_ids:
        return []
    found = await repo.get_many(ledger.payment_ids, kind=Payment)
    missing = [pid for pid in ledger.payment_ids if pid not in found]
    if missing:  # the ledger names only payments saved with it
        raise AggregateNotFoundError(missing[0], Payment)
    return [found[pid] for pid in ledger.payment_ids]
