"""Stripe Connect for a marketplace: onboarding sellers and charging on their behalf.

- A seller gets an Express account (``POST /v1/accounts`` with ``controller``: Express
  dashboard, the platform pays Stripe's fees and bears losses; ``type=express`` is
  deprecated), card payments and transfers requested; ``onboarding_link`` gives the
  single-use URL of Stripe's hosted onboarding (``POST /v1/account_links``,
  ``type=account_onboarding``).
- A destination charge is a PaymentIntent on the platform with
  ``transfer_data[destination]`` (the seller's account) and ``application_fee_amount`` (what
  the platform keeps); Stripe transfers the rest to the seller.
- Refunding one reverses the transfer and refunds the application fee in proportion.
- A seller's payouts are read on their account (``GET /v1/payouts`` with the
  ``Stripe-Account`` header).

It is the ``Marketplace`` port on Stripe. Every creating call carries the caller's
idempotency key, as the gateway's do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from stripe.params import AccountCreateParams

from adapters.payments import stripe_intents as intents
from commerce_core.marketplace.ports import OnboardingLink, Payout, PayoutStatus, SellerAccount
from commerce_core.payments.ports.gateway import (
    Destination,
    GatewayPayment,
    GatewayRefund,
    GatewayRequestError,
)
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money

if TYPE_CHECKING:
    from adapters.payments.stripe_calls import StripeCalls

MAX_PAYOUTS = 100  # Stripe's largest page
_ACCOUNT_MISSING = {"account_invalid", "permission_denied"}
T = TypeVar("T")


class StripeConnect:
    """Connect calls over the gateway's client and retry policy (a ``Marketplace``)."""

    def __init__(self, calls: StripeCalls) -> None:
        self._calls = calls

    async def create_seller_account(
        self,
        idempotency_key: str,
        country: str,
        email: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> SellerAccount:
        """Creates a seller's Express account (``country``: ISO 3166-1 alpha-2)."""
        params: AccountCreateParams = {
            "controller": {
                "stripe_dashboard": {"type": "express"},
                "fees": {"payer": "application"},
                "losses": {"payments": "application"},
            },
            "country": country.upper(),
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
        }
        if email:
            params["email"] = email
        if metadata:
            params["metadata"] = dict(metadata)
        accounts = self._calls.client.v1.accounts

        async def create() -> SellerAccount:
            account = await accounts.create_async(params, intents.with_key(idempotency_key))
            return _seller(account.to_dict())

        return await self._calls.send(create)

    async def seller_account(self, account_id: str) -> SellerAccount:
        """The seller's account as Stripe has it now (after onboarding, say)."""
        accounts = self._calls.client.v1.accounts

        async def retrieve() -> SellerAccount:
            return _seller((await accounts.retrieve_async(account_id)).to_dict())

        return await self._on_account(account_id, retrieve)

    async def onboarding_link(
        self, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> OnboardingLink:
        """The URL to send the seller to; Stripe sends them back to ``return_url``.

        A link works once and expires within minutes: make a new one (``refresh_url`` is
        where Stripe sends a seller whose link expired).
        """
        links = self._calls.client.v1.account_links

        async def create() -> OnboardingLink:
            link = await links.create_async(
                {
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                },
                intents.with_key(idempotency_key),
            )
            return OnboardingLink(url=str(link.url), expires_at=_time(link.expires_at))

        return await self._on_account(account_id, create)

    async def seller_payouts(self, account_id: str, limit: int = 10) -> list[Payout]:
        """The account's latest payouts to its bank, newest first (as Stripe lists them)."""
        payouts = self._calls.client.v1.payouts
        if not 1 <= limit <= MAX_PAYOUTS:
            raise GatewayRequestError("parameter_invalid", f"limit {limit} is not 1-100")

        async def listed() -> list[Payout]:
            page = await payouts.list_async({"limit": limit}, {"stripe_account": account_id})
            return [_payout(payout) for payout in page.to_dict()["data"]]

        return await self._on_account(account_id, listed)

    async def _on_account(self, account_id: str, request: Callable[[], Awaitable[T]]) -> T:
        """Sends a request about one account; an account we cannot reach is missing.

        Stripe answers 403 for an account that does not exist or is no longer connected
        to the platform ("does not have access to account ... (or that account does not
        exist)"), ``account_invalid`` when it is named in the ``Stripe-Account`` header.
        """
        try:
            return await self._calls.send(request)
        except GatewayRequestError as error:
            if error.code not in _ACCOUNT_MISSING:
                raise
            raise GatewayRequestError("resource_missing", str(error)) from error

    async def destination_charge(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        destination: str,
        application_fee: Money,
        capture: bool = True,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayPayment:
        """Charges (or, with ``capture=False``, authorizes) for a seller, keeping a fee.

        The result is like the gateway's: capture, void and retrieve work on it as usual.
        """
        return await intents.create_payment(
            self._calls,
            amount,
            token,
            idempotency_key,
            metadata,
            "automatic" if capture else "manual",
            Destination(account_id=destination, application_fee=application_fee),
        )

    async def refund_destination_charge(
        self,
        gateway_payment_id: str,
        amount: Money,
        idempotency_key: str,
        reason: str | None = None,
    ) -> GatewayRefund:
        """Refunds the customer, taking the money back from the seller and the platform's fee."""
        return await intents.refund_payment(
            self._calls,
            gateway_payment_id,
            amount,
            idempotency_key,
            reason,
            reverse_transfer=True,
        )


def _seller(account: Mapping[str, Any]) -> SellerAccount:
    return SellerAccount(
        account_id=str(account["id"]),
        charges_enabled=bool(account.get("charges_enabled")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
        currently_due=currently_due(account),
    )


def currently_due(account: Mapping[str, Any]) -> tuple[str, ...]:
    """What Stripe needs from the seller now (``requirements.currently_due``)."""
    requirements = account.get("requirements") or {}
    return tuple(str(field) for field in requirements.get("currently_due") or ())


# A status Stripe may add later reads as not yet arrived.
_PAYOUT_STATUSES = {status.value: status for status in PayoutStatus}


def _payout(payout: Mapping[str, Any]) -> Payout:
    try:
        amount = Money(int(payout["amount"]), str(payout["currency"]).upper())
    except InvalidValueError as error:
        raise GatewayRequestError("currency_not_supported", str(error)) from None
    return Payout(
        payout_id=str(payout["id"]),
        amount=amount,
        status=_PAYOUT_STATUSES.get(str(payout.get("status")), PayoutStatus.PENDING),
        arrival_date=_time(payout["arrival_date"]).date(),
        created_at=_time(payout["created"]),
        failure_code=payout.get("failure_code") or None,
    )


def _time(unix: Any) -> datetime:
    return datetime.fromtimestamp(int(unix), UTC)
