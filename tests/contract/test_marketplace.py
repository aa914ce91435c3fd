"""The marketplace contract: the fake and Stripe Connect behave alike.

Stripe runs through the recording HTTP client against canned Connect JSON
(localstripe has no Connect): the requests the SDK sends and our reading of Stripe's
answers are verified, Stripe's own behaviour is not. Each adapter comes with its
own way of playing the gateway's side (a seller finishing onboarding, a payout).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.marketplace import FakeMarketplace
from commerce_core.marketplace.ports import Marketplace, Payout, PayoutStatus
from commerce_core.payments.ports.gateway import GatewayRequestError
from commerce_core.shared.money import Money
from tests.integration.stripe.canned_connect import CannedConnect
from tests.integration.stripe.recording import Recorded

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
REFRESH, RETURN = "https://shop.test/onboarding/retry", "https://shop.test/onboarding/done"
PayOut = Callable[[str, Money, PayoutStatus, date, datetime, str | None], None]


@dataclass
class MarketplaceUnderTest:
    marketplace: Marketplace
    enable: Callable[[str], object]  # the seller finished onboarding
    pay_out: PayOut  # the gateway pays the seller's balance out
    metadata_of: Callable[[str], dict[str, str]]
    account_count: Callable[[], int]


def fake_under_test() -> MarketplaceUnderTest:
    clock = FixedClock(NOW)
    fake = FakeMarketplace(clock)

    def pay_out(
        account: str,
        amount: Money,
        status: PayoutStatus,
        arrival: date,
        at: datetime,
        code: str | None,
    ) -> None:
        clock.set(at)
        fake.add_payout(account, amount, status, arrival, code)

    return MarketplaceUnderTest(
        fake, fake.complete_onboarding, pay_out, fake.metadata_of, lambda: fake.account_count
    )


def stripe_under_test(recorded: Recorded) -> MarketplaceUnderTest:
    stripe = CannedConnect(NOW)
    recorded.http.responder = stripe

    def pay_out(
        account: str,
        amount: Money,
        status: PayoutStatus,
        arrival: date,
        at: datetime,
        code: str | None,
    ) -> None:
        currency = amount.currency.lower()
        stripe.pay_out(account, amount.amount, currency, status.value, arrival, at, code)

    return MarketplaceUnderTest(
        recorded.gateway.connect,
        stripe.enable,
        pay_out,
        lambda account: stripe.accounts[account]["metadata"],
        lambda: len(stripe.accounts),
    )


@pytest.fixture(params=["fake", "stripe"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[MarketplaceUnderTest]:
    if request.param == "fake":
        yield fake_under_test()
        return
    recorded = Recorded()
    yield stripe_under_test(recorded)
    await recorded.gateway.close()


async def open_account(subject: MarketplaceUnderTest, key: str = "seller-1:open") -> str:
    account = await subject.marketplace.create_seller_account(
        key, "gb", email="seller@example.com", metadata={"tenant_id": "t1", "seller_id": "s1"}
    )
    return account.account_id


async def test_a_new_account_takes_no_charges_and_says_what_the_seller_owes(
    subject: MarketplaceUnderTest,
) -> None:
    account = await subject.marketplace.create_seller_account(
        "seller-1:open", "gb", metadata={"tenant_id": "t1", "seller_id": "s1"}
    )

    assert account.account_id.startswith("acct_")
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (
        False,
        False,
        False,
    )
    assert "external_account" in account.currently_due
    assert subject.metadata_of(account.account_id) == {"tenant_id": "t1", "seller_id": "s1"}


async def test_the_same_key_and_request_open_one_account(subject: MarketplaceUnderTest) -> None:
    first = await open_account(subject)
    again = await open_account(subject)

    assert again == first
    assert subject.account_count() == 1


async def test_the_same_key_for_another_request_is_refused(subject: MarketplaceUnderTest) -> None:
    await open_account(subject)

    with pytest.raises(GatewayRequestError) as refused:
        await subject.marketplace.create_seller_account("seller-1:open", "fr")

    assert refused.value.code == "idempotency_key_reused"
    assert subject.account_count() == 1


async def test_an_account_is_read_as_the_gateway_has_it_now(subject: MarketplaceUnderTest) -> None:
    account_id = await open_account(subject)
    before = await subject.marketplace.seller_account(account_id)

    subject.enable(account_id)
    after = await subject.marketplace.seller_account(account_id)

    assert before.charges_enabled is False
    assert (after.charges_enabled, after.payouts_enabled, after.details_submitted) == (
        True,
        True,
        True,
    )
    assert after.currently_due == ()


async def test_every_onboarding_link_is_a_new_one_that_expires_soon(
    subject: MarketplaceUnderTest,
) -> None:
    account_id = await open_account(subject)

    first = await subject.marketplace.onboarding_link(account_id, REFRESH, RETURN, "link-1")
    retried = await subject.marketplace.onboarding_link(account_id, REFRESH, RETURN, "link-1")
    second = await subject.marketplace.onboarding_link(account_id, REFRESH, RETURN, "link-2")

    assert retried == first
    assert second.url != first.url
    assert first.url.startswith("https://")
    assert NOW < first.expires_at <= NOW + timedelta(hours=1)


async def test_payouts_are_listed_newest_first_with_their_status(
    subject: MarketplaceUnderTest,
) -> None:
    account_id = await open_account(subject)
    subject.enable(account_id)
    day = timedelta(days=1)
    subject.pay_out(account_id, Money(5_000, "GBP"), PayoutStatus.PAID, date(2026, 5, 6), NOW, None)
    subject.pay_out(
        account_id,
        Money(700, "GBP"),
        PayoutStatus.FAILED,
        date(2026, 5, 7),
        NOW + day,
        "account_closed",
    )
    subject.pay_out(
        account_id,
        Money(1_200, "GBP"),
        PayoutStatus.IN_TRANSIT,
        date(2026, 5, 8),
        NOW + 2 * day,
        None,
    )

    latest_two = await subject.marketplace.seller_payouts(account_id, limit=2)

    assert [_shape(p) for p in latest_two] == [
        (Money(1_200, "GBP"), PayoutStatus.IN_TRANSIT, date(2026, 5, 8), NOW + 2 * day, None),
        (Money(700, "GBP"), PayoutStatus.FAILED, date(2026, 5, 7), NOW + day, "account_closed"),
    ]
    assert len({p.payout_id for p in await subject.marketplace.seller_payouts(account_id)}) == 3


def _shape(payout: Payout) -> tuple[object, ...]:
    return (
        payout.amount,
        payout.status,
        payout.arrival_date,
        payout.created_at,
        payout.failure_code,
    )


async def test_an_account_without_payouts_lists_none(subject: MarketplaceUnderTest) -> None:
    account_id = await open_account(subject)

    assert await subject.marketplace.seller_payouts(account_id) == []


@pytest.mark.parametrize("limit", [0, 101])
async def test_a_payout_limit_out_of_1_to_100_is_refused(
    subject: MarketplaceUnderTest, limit: int
) -> None:
    account_id = await open_account(subject)

    with pytest.raises(GatewayRequestError) as refused:
        await subject.marketplace.seller_payouts(account_id, limit=limit)

    assert refused.value.code == "parameter_invalid"


async def test_an_account_the_gateway_does_not_know_is_missing(
    subject: MarketplaceUnderTest,
) -> None:
    market = subject.marketplace
    calls = {
        "read": market.seller_account("acct_unknown"),
        "link": market.onboarding_link("acct_unknown", REFRESH, RETURN, "link-x"),
        "payouts": market.seller_payouts("acct_unknown"),
    }

    codes = {}
    for name, call in calls.items():
        with pytest.raises(GatewayRequestError) as missing:
            await call
        codes[name] = missing.value.code

    assert codes == dict.fromkeys(calls, "resource_missing")
