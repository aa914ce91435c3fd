"""A marketplace in memory that behaves like Stripe Connect where it matters, for tests and
the demo mode.

Like Stripe it honours idempotency keys (the same request answers as the first time;
another request with the key is refused), opens accounts that can neither take charges
nor pay out until the seller is onboarded, and makes single-use onboarding links that
expire after ``LINK_LIFETIME``. Stripe's side of the story is played by the test
controls: ``complete_onboarding`` / ``update_account`` (what the seller did on the
onboarding pages) and ``add_payout`` (Stripe paying the seller's balance out).

In the demo mode (``onboard_on_link``) nobody can fill in the fake's onboarding pages, so
handing out a link counts as the seller finishing them: the account can take charges and
pay out, as ``POST /sellers/{id}/refresh`` (or the next onboarding call) then shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar, cast

import msgspec

from adapters.memory.clock import SystemClock
from commerce_core.marketplace.ports import OnboardingLink, Payout, PayoutStatus, SellerAccount
from commerce_core.payments.ports.gateway import (
    GatewayError,
    GatewayRequestError,
    GatewayUnavailableError,
)
from commerce_core.shared.money import Money
from commerce_core.shared.ports.clock import Clock

LINK_LIFETIME = timedelta(minutes=5)
# What Stripe asks of a new Express account before it may take charges and pay out.
NEW_ACCOUNT_NEEDS = (
    "business_type",
    "external_account",
    "tos_acceptance.date",
    "tos_acceptance.ip",
)
MAX_PAYOUTS = 100

R = TypeVar("R", SellerAccount, OnboardingLink)


@dataclass
class _Account:
    state: SellerAccount
    country: str
    email: str | None
    metadata: dict[str, str]
    payouts: list[Payout] = field(default_factory=list)


class FakeMarketplace:
    """The ``Marketplace`` port in memory (see the module docstring)."""

    def __init__(
        self, clock: Clock | None = None, *, onboard_on_link: bool = False, id_tag: str = ""
    ) -> None:
        self._clock = clock or SystemClock()
        self._id_prefix = f"{id_tag}_" if id_tag else ""  # see FakePaymentGateway
        self._onboard_on_link = onboard_on_link
        self._accounts: dict[str, _Account] = {}
        self._links = 0
        self._answers: dict[str, tuple[tuple[object, ...], SellerAccount | OnboardingLink]] = {}
        self._next_failure: GatewayError | None = None
        self._lose_next_response = False

    # Test controls

    @property
    def account_count(self) -> int:
        """How many accounts were opened: a retried call must not add one."""
        return len(self._accounts)

    def metadata_of(self, account_id: str) -> dict[str, str]:
        """The metadata an account was opened with."""
        return dict(self._account(account_id).metadata)

    def update_account(
        self,
        account_id: str,
        *,
        charges_enabled: bool | None = None,
        payouts_enabled: bool | None = None,
        details_submitted: bool | None = None,
        currently_due: tuple[str, ...] | None = None,
    ) -> SellerAccount:
        """The account changed at the gateway (the seller, or the gateway's review)."""
        account = self._account(account_id)
        changes = {
            "charges_enabled": charges_enabled,
            "payouts_enabled": payouts_enabled,
            "details_submitted": details_submitted,
            "currently_due": currently_due,
        }
        account.state = msgspec.structs.replace(
            account.state, **{name: value for name, value in changes.items() if value is not None}
        )
        return account.state

    def complete_onboarding(self, account_id: str) -> SellerAccount:
        """The seller finished onboarding and the gateway enabled everything."""
        return self.update_account(
            account_id,
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            currently_due=(),
        )

    def add_payout(
        self,
        account_id: str,
        amount: Money,
        status: PayoutStatus = PayoutStatus.PENDING,
        arrival_date: date | None = None,
        failure_code: str | None = None,
    ) -> Payout:
        """The gateway pays ``amount`` of the seller's balance out to their bank."""
        account = self._account(account_id)
        now = self._clock.now()
        number = sum(len(a.payouts) for a in self._accounts.values()) + 1
        payout = Payout(
            payout_id=f"po_fake_{self._id_prefix}{number:06d}",
            amount=amount,
            status=status,
            arrival_date=arrival_date or (now + timedelta(days=2)).date(),
            created_at=now,
            failure_code=failure_code,
        )
        account.payouts.append(payout)
        return payout

    def fail_next_call(self, error: GatewayError | None = None) -> None:
        """The next call raises ``error`` (default: unavailable) and has no effect."""
        self._next_failure = error or GatewayUnavailableError("fake marketplace is down")

    def lose_next_response(self) -> None:
        """The next creating call takes effect, then raises ``GatewayUnavailableError``."""
        self._lose_next_response = True

    # The port

    async def create_seller_account(
        self,
        idempotency_key: str,
        country: str,
        email: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> SellerAccount:
        notes = tuple(sorted((metadata or {}).items()))
        request = ("account", country.upper(), email, notes)
        return self._once(
            idempotency_key, request, lambda: self._open(country.upper(), email, metadata)
        )

    async def seller_account(self, account_id: str) -> SellerAccount:
        self._maybe_fail()
        return self._account(account_id).state

    async def onboarding_link(
        self, account_id: str, refresh_url: str, return_url: str, idempotency_key: str
    ) -> OnboardingLink:
        request = ("link", account_id, refresh_url, return_url)
        return self._once(idempotency_key, request, lambda: self._link(account_id))

    async def seller_payouts(self, account_id: str, limit: int = 10) -> list[Payout]:
        self._maybe_fail()
        if not 1 <= limit <= MAX_PAYOUTS:
            raise GatewayRequestError("parameter_invalid", f"limit {limit} is not 1-100")
        payouts = self._account(account_id).payouts
        return list(reversed(payouts))[:limit]

    # How calls behave

    def _once(self, key: str, request: tuple[object, ...], act: Callable[[], R]) -> R:
        self._maybe_fail()
        known = self._answers.get(key)
        if known is not None:
            first_request, answer = known
            if first_request != request:
                raise GatewayRequestError("idempotency_key_reused")
            return cast(R, answer)  # the same request, so the same kind of answer
        fresh = act()
        self._answers[key] = (request, fresh)
        if self._lose_next_response:
            self._lose_next_response = False
            raise GatewayUnavailableError("fake marketplace timed out (the call took effect)")
        return fresh

    def _maybe_fail(self) -> None:
        failure, self._next_failure = self._next_failure, None
        if failure is not None:
            raise failure

    def _account(self, account_id: str) -> _Account:
        account = self._accounts.get(account_id)
        if account is None:
            raise GatewayRequestError("resource_missing", f"no account {account_id}")
        return account

    def _open(
        self, country: str, email: str | None, metadata: Mapping[str, str] | None
    ) -> SellerAccount:
        account_id = f"acct_fake_{self._id_prefix}{len(self._accounts) + 1:06d}"
        state = SellerAccount(
            account_id=account_id,
            charges_enabled=False,
            payouts_enabled=False,
            details_submitted=False,
            currently_due=NEW_ACCOUNT_NEEDS,
        )
        self._accounts[account_id] = _Account(state, country, email, dict(metadata or {}))
        return state

    def _link(self, account_id: str) -> OnboardingLink:
        self._account(account_id)
        self._links += 1
        if self._onboard_on_link:
            self.complete_onboarding(account_id)
        return OnboardingLink(
            url=f"https://connect.fake.test/setup/{account_id}/{self._links:06d}",
            expires_at=self._clock.now() + LINK_LIFETIME,
        )
