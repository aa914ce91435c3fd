"""Marketplace payments: which seller's account a payment goes to, and the fee it keeps.

A payment for a seller is a *destination charge*: the gateway takes the money on the
platform's account, transfers it to the seller's connected account and keeps the
application fee, which is the payment's platform fee (the tenant's tier or override,
as ``Payment`` computes it). The seller is checked before any money moves.

The fee sent to the gateway always equals what ``Payment`` records:

- authorize and charge send the fee on the whole amount;
- a capture sends the fee on what it captures (``Payment.platform_fee_after``). Stripe
  would otherwise keep the fee set at authorization (only capped at the captured
  amount), so after a partial capture it would take more than the payment shows.
  See docs/adr/0013-destination-charges-refund-ids-gateway-voids.md.
- refunds send ``reverse_transfer``: the seller gives the money back and the fee is
  refunded in proportion.
"""

from __future__ import annotations

from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.marketplace.seller import Seller, SellerNotFoundError
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.gateway import Destination
from commerce_core.shared.errors import DomainError
from commerce_core.shared.loading import load_owned
from commerce_core.shared.money import Money


class SellerNotReadyError(DomainError):
    """The seller's gateway account may not take charges yet (onboarding unfinished)."""

    def __init__(self, seller_id: str) -> None:
        super().__init__(f"seller {seller_id!r} cannot take charges yet")
        self.seller_id = seller_id


async def ready_seller(repo: Repository, tenant_id: str, seller_id: str) -> Seller:
    """The tenant's seller, if its account may take charges.

    ``SellerNotFoundError`` for an unknown seller (or another tenant's),
    ``SellerNotReadyError`` while charges are not enabled.
    """
    try:
        seller = await load_owned(repo, tenant_id, Seller.id_for(tenant_id, seller_id), Seller)
    except AggregateNotFoundError:
        raise SellerNotFoundError(seller_id) from None
    if not seller.charges_enabled:
        raise SellerNotReadyError(seller_id)
    return seller


def opening_destination(payment: Payment) -> Destination | None:
    """Where a new payment goes (``None``: the platform keeps it), with the platform fee on
    its whole amount."""
    if payment.destination_account is None:
        return None
    fee = payment.fee_schedule.fee_on(payment.amount)
    return Destination(account_id=payment.destination_account, application_fee=fee)


def capture_fee(payment: Payment, amount: Money) -> Money | None:
    """The application fee to send with a capture of ``amount`` (``None``: not a
    destination payment)."""
    if payment.destination_account is None:
        return None
    return payment.platform_fee_after(amount)


def reverses_transfer(payment: Payment) -> bool:
    """Whether refunds take the money back from the seller (destination payments)."""
    return payment.destination_account is not None
