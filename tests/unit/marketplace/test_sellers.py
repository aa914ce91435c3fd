"""Sellers: onboarding opens one account per seller and always gives a fresh link; the
gateway's word on the account is kept newest first; payouts are read from the gateway."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.marketplace import FakeMarketplace
from commerce_core.eventstore import START, Repository
from commerce_core.marketplace import services as sellers
from commerce_core.marketplace.ports import AccountUpdate, PayoutStatus
from commerce_core.marketplace.seller import Seller, SellerNotFoundError
from commerce_core.marketplace.services import (
    AccountUpdateOutcome,
    Onboarding,
    OnboardSeller,
    SellerServices,
)
from commerce_core.payments.ports.gateway import GatewayRequestError, GatewayUnavailableError
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.money import Money
from commerce_core.shared.retry import retry_on_conflict
from tests.unit.shop import STAFF, TENANT, TestEventStore

REFRESH, RETURN = "https://shop.test/retry", "https://shop.test/done"


class Market:
    """A tenant's sellers on the fake marketplace, with a clock moved by hand."""

    def __init__(self) -> None:
        self.store = TestEventStore()
        self.repo = Repository(self.store)
        self.clock = FixedClock()
        self.gateway = FakeMarketplace(self.clock)

    @property
    def services(self) -> SellerServices:
        return SellerServices(
            repo=self.repo, marketplace=self.gateway, clock=self.clock, ids=RandomIds()
        )

    async def onboard(
        self, seller_id: str = "seller-1", ctx: CommandContext = STAFF, country: str = "GB"
    ) -> Onboarding:
        command = OnboardSeller(
            country=country, refresh_url=REFRESH, return_url=RETURN, email="ada@example.com"
        )
        return await retry_on_conflict(
            lambda: sellers.onboard_seller(self.services, ctx, seller_id, command)
        )

    async def seller(self, seller_id: str = "seller-1") -> Seller:
        return await sellers.get_seller(self.repo, TENANT, seller_id)

    def update(self, account_id: str, seconds: int, event_id: str, charges: bool) -> AccountUpdate:
        account = self.gateway.update_account(
            account_id, charges_enabled=charges, payouts_enabled=charges
        )
        return AccountUpdate(
            gateway="stripe",
            account=account,
            as_of=self.clock.now() + timedelta(seconds=seconds),
            event_id=event_id,
            tenant_id=TENANT,
            seller_id="seller-1",
        )


async def test_the_first_onboarding_opens_the_account_and_gives_a_link() -> None:
    market = Market()

    first = await market.onboard()

    seller = first.seller
    assert first.opened
    assert (seller.seller_id, seller.gateway, seller.country) == ("seller-1", "stripe", "GB")
    assert market.gateway.metadata_of(seller.account_id) == {
        "tenant_id": TENANT,
        "seller_id": "seller-1",
    }
    assert first.link.url.startswith("https://")
    assert first.link.expires_at > market.clock.now()
    assert (await market.seller()).account_id == seller.account_id


async def test_onboarding_again_keeps_the_account_and_gives_a_new_link() -> None:
    market = Market()
    first = await market.onboard()

    again = await market.onboard(country="FR")  # the account keeps its country

    assert not again.opened
    assert again.seller.account_id == first.seller.account_id
    assert again.link.url != first.link.url
    assert (market.gateway.account_count, (await market.seller()).country) == (1, "GB")


async def test_a_retry_after_the_gateway_s_answer_was_lost_opens_no_second_account() -> None:
    market = Market()
    market.gateway.lose_next_response()
    with pytest.raises(GatewayUnavailableError):
        await market.onboard()

    retried = await market.onboard()

    assert retried.opened
    assert market.gateway.account_count == 1


async def test_two_first_onboardings_at_once_open_one_account_and_one_seller() -> None:
    market = Market()
    market.store.yield_on_read = True  # both find no seller before either saves

    both = await asyncio.gather(market.onboard(), market.onboard())

    assert sorted(o.opened for o in both) == [False, True]
    assert market.gateway.account_count == 1
    assert both[0].seller.account_id == both[1].seller.account_id


async def test_an_account_opened_but_whose_link_failed_is_kept() -> None:
    market = Market()
    original_link = market.gateway.onboarding_link

    async def failing_link(*args: str) -> object:
        raise GatewayUnavailableError("no answer")

    market.gateway.onboarding_link = failing_link  # type: ignore[assignment,method-assign]
    with pytest.raises(GatewayUnavailableError):
        await market.onboard()
    market.gateway.onboarding_link = original_link  # type: ignore[method-assign]

    retried = await market.onboard()

    assert not retried.opened
    assert market.gateway.account_count == 1


@pytest.mark.parametrize(("seller_id", "country"), [("seller 1", "GB"), ("seller-1", "ZZ")])
async def test_a_bad_seller_id_or_country_opens_nothing(seller_id: str, country: str) -> None:
    market = Market()

    with pytest.raises(InvalidValueError):
        await market.onboard(seller_id, country=country)

    assert market.gateway.account_count == 0
    assert await market.store.read_all(START) == []


async def test_the_seller_s_email_goes_to_the_gateway_only() -> None:
    market = Market()
    await market.onboard()

    stored = await market.store.read_all(START)

    assert stored
    assert all(b"ada@example.com" not in event.data for event in stored)


async def test_an_unknown_seller_has_no_view_no_refresh_and_no_payouts() -> None:
    market = Market()
    await market.onboard("seller-1")
    other_tenant = CommandContext(tenant_id="tenant-2", actor="key:2")

    with pytest.raises(SellerNotFoundError):
        await sellers.get_seller(market.repo, "tenant-2", "seller-1")
    with pytest.raises(SellerNotFoundError):
        await sellers.refresh_seller(market.services, other_tenant, "seller-1")
    with pytest.raises(SellerNotFoundError):
        await sellers.seller_payouts(market.repo, market.gateway, TENANT, "seller-2")


async def test_the_gateway_s_updates_in_any_order_end_with_the_newest() -> None:
    market = Market()
    account_id = (await market.onboard()).seller.account_id
    older = market.update(account_id, 1, "evt_1", charges=False)
    newer = market.update(account_id, 2, "evt_2", charges=True)

    outcomes = [
        await sellers.record_account_update(market.repo, market.clock, STAFF, update)
        for update in (newer, older, newer)
    ]

    assert outcomes == [
        AccountUpdateOutcome.RECORDED,
        AccountUpdateOutcome.NOT_NEWER,
        AccountUpdateOutcome.NOT_NEWER,
    ]
    assert (await market.seller()).charges_enabled


async def test_an_update_for_another_account_or_an_unknown_seller_changes_nothing() -> None:
    market = Market()
    account_id = (await market.onboard()).seller.account_id
    stale = (await market.onboard("seller-2")).seller.account_id
    other_account = market.update(stale, 1, "evt_1", charges=True)
    nobody = AccountUpdate(
        gateway="stripe",
        account=market.gateway.update_account(account_id, charges_enabled=True),
        as_of=market.clock.now(),
        event_id="evt_2",
        tenant_id=TENANT,
        seller_id="nobody",
    )

    outcomes = [
        await sellers.record_account_update(market.repo, market.clock, STAFF, update)
        for update in (other_account, nobody)
    ]

    assert outcomes == [AccountUpdateOutcome.OTHER_ACCOUNT, AccountUpdateOutcome.UNKNOWN_SELLER]
    assert not (await market.seller()).charges_enabled


async def test_a_refresh_reads_the_account_and_an_older_event_arriving_later_loses() -> None:
    market = Market()
    account_id = (await market.onboard()).seller.account_id
    late = market.update(account_id, -60, "evt_old", charges=False)  # created before the read
    market.gateway.complete_onboarding(account_id)

    refreshed = await sellers.refresh_seller(market.services, STAFF, "seller-1")
    outcome = await sellers.record_account_update(market.repo, market.clock, STAFF, late)

    assert (refreshed.charges_enabled, refreshed.payouts_enabled, refreshed.requirements_due) == (
        True,
        True,
        (),
    )
    assert outcome is AccountUpdateOutcome.NOT_NEWER
    assert (await market.seller()).charges_enabled


async def test_payouts_are_the_gateway_s_newest_first_with_the_seller_s_flag() -> None:
    market = Market()
    account_id = (await market.onboard()).seller.account_id
    paid = market.gateway.add_payout(account_id, Money(5_000, "GBP"), PayoutStatus.PAID)
    market.clock.advance(timedelta(days=1))
    failed = market.gateway.add_payout(
        account_id, Money(700, "GBP"), PayoutStatus.FAILED, date(2026, 1, 5), "account_closed"
    )

    listed = await sellers.seller_payouts(market.repo, market.gateway, TENANT, "seller-1")
    latest = await sellers.seller_payouts(market.repo, market.gateway, TENANT, "seller-1", 1)

    assert listed.payouts == [failed, paid]
    assert latest.payouts == [failed]
    assert listed.seller.payouts_enabled is False


async def test_a_payout_limit_the_gateway_refuses_is_its_error() -> None:
    market = Market()
    await market.onboard()

    with pytest.raises(GatewayRequestError):
        await sellers.seller_payouts(market.repo, market.gateway, TENANT, "seller-1", 0)
