"""Loading a payment, or every payment of an order, for one tenant only."""

from __future__ import annotations

from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.ordering.ledger import OrderLedger
from commerce_core.payments.payment import Payment
from commerce_core.shared.loading import load_owned


async def load_payment(repo: Repository, tenant_id: str, payment_id: UUID) -> Payment:
    return await load_owned(repo, tenant_id, payment_id, Payment)


async def load_payments(repo: Repository, ledger: OrderLedger) -> list[Payment]:
    """Every payment attempt of the order, oldest first."""
    return [await repo.get(pid, kind=Payment) for pid in ledger.payment_ids]
