"""The marketplace port: sellers' accounts at the payment gateway (Stripe Connect).

Contract (``tests/contract/test_marketplace.py`` holds the fake and Stripe to it):

- ``create_seller_account`` opens an account for a seller in ``country`` (ISO 3166-1
  alpha-2), with ``metadata`` that comes back in the gateway's events of the account.
  The same ``idempotency_key`` with the same request answers with the first account
  (a retry after a lost answer opens no second one); with another request it raises
  ``GatewayRequestError("idempotency_key_reused")``. A new account can take neither
  charges nor payouts, and says what the gateway needs from the seller
  (``currently_due``).
- ``seller_account`` reads an account as the gateway has it now; an unknown one raises
  ``GatewayRequestError("resource_missing")``.
- ``onboarding_link`` makes the URL of the gateway's hosted onboarding. A link works
  once and expires soon (``expires_at``): every call makes a new one (the idempotency
  key only protects a retry of the same call). The gateway sends the seller back to
  ``return_url``, or to ``refresh_url`` when the link expired or was used.
- ``seller_payouts`` lists the account's payouts to its bank, newest first, at most
  ``limit`` (1-100).

Errors are the payment gateway's (``GatewayRequestError``, ``GatewayUnavailableError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

import msgspec

from commerce_core.shared.money import Money


class SellerAccount(msgspec.Struct, frozen=True, kw_only=True):
    """A seller's account: whether the gateway lets it take charges and receive payouts,
    whether the seller finished onboarding, and what the gateway still needs from them."""

    account_id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    currently_due: tuple[str, ...] = ()


class OnboardingLink(msgspec.Struct, frozen=True, kw_only=True):
    """A single-use URL of the gateway's onboarding pages, valid until ``expires_at``."""

    url: str
    expires_at: datetime


class PayoutStatus(StrEnum):
    """As Stripe names them: ``pending`` (not yet sent), ``in_transit`` (sent to the
    bank), ``paid`` (arrived), ``failed`` (the bank refused it), ``canceled``."""

    PENDING = "pending"
    IN_TRANSIT = "in_transit"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"


class Payout(msgspec.Struct, frozen=True, kw_only=True):
    """Money the gateway sends from the seller's balance to their bank.

    ``arrival_date``: when it is expected (or did) arrive; ``failure_code``: why the
    bank refused it (``failed`` only).
    """

    payout_id: str
    amount: Money
    status: PayoutStatus
    arrival_date: date
    created_at: datetime
    failure_code: str | None = None


class Marketplace(Protocol):
    """Sellers' accounts at one gateway; see the module's docstring for the contract."""

    async def create_seller_account(
        self,
        idempotency_key: str,
        country: str,
        email: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> SellerAccount: ...

    async def seller_account(self, account_id: str) -> SellerAccount: ...

    async def onboarding_link(
        self, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> OnboardingLink: ...

    async def seller_payouts(self, account_id: str, limit: int = 10) -> list[Payout]: ...


class AccountUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """What the gateway said of a seller's account at ``as_of`` (its event ``event_id``).

    ``tenant_id`` and ``seller_id`` come from the account's metadata, which we set when
    opening it: an account opened elsewhere has none.
    """

    gateway: str
    account: SellerAccount
    as_of: datetime
    event_id: str
    tenant_id: str | None = None
    seller_id: str | None = None
