"""Stripe Connect requests (onboarding, payouts, destination charges), on recorded requests.

localstripe has no Connect (accounts, account links and application fees all 404), so the
exact request shapes are checked on what the SDK sends through a recording HTTP client.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from commerce_core.marketplace.ports import OnboardingLink, Payout, PayoutStatus
from commerce_core.payments.ports.gateway import GatewayRequestError
from commerce_core.shared.money import Money
from tests.integration.stripe.recording import (
    EXPAND,
    MULTICAPTURE,
    Recorded,
    Reply,
    error,
    intent,
    ok,
    refund,
)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


# Connect (localstripe has none of it)


async def test_a_seller_is_onboarded_with_an_express_account(recorded: Recorded) -> None:
    recorded.answer(
        ok(
            {
                "id": "acct_1",
                "object": "account",
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
            }
        )
    )

    seller = await recorded.gateway.connect.create_seller_account(
        "seller-7", "us", email="seller@example.com", metadata={"seller_id": "7"}
    )

    assert (recorded.last.method, recorded.last.path) == ("POST", "/v1/accounts")
    assert recorded.last.form == {
        "controller[stripe_dashboard][type]": "express",
        "controller[fees][payer]": "application",
        "controller[losses][payments]": "application",
        "country": "US",
        "capabilities[card_payments][requested]": "true",
        "capabilities[transfers][requested]": "true",
        "email": "seller@example.com",
        "metadata[seller_id]": "7",
    }
    assert recorded.last.idempotency_key == "seller-7"
    assert (seller.account_id, seller.charges_enabled) == ("acct_1", False)


async def test_an_onboarding_link_is_an_account_link_url(recorded: Recorded) -> None:
    recorded.answer(
        ok(
            {
                "object": "account_link",
                "created": 1_767_225_600,
                "expires_at": 1_767_225_900,
                "url": "https://connect.stripe.com/setup/e/x",
            }
        )
    )

    link = await recorded.gateway.connect.onboarding_link(
        "acct_1", "https://shop.test/refresh", "https://shop.test/done", "link-1"
    )

    assert (recorded.last.method, recorded.last.path) == ("POST", "/v1/account_links")
    assert recorded.last.form == {
        "account": "acct_1",
        "refresh_url": "https://shop.test/refresh",
        "return_url": "https://shop.test/done",
        "type": "account_onboarding",
    }
    assert recorded.last.idempotency_key == "link-1"
    assert link == OnboardingLink(
        url="https://connect.stripe.com/setup/e/x",
        expires_at=datetime(2026, 1, 1, 0, 5, tzinfo=UTC),
    )


async def test_a_sellers_account_is_read_for_its_capabilities(recorded: Recorded) -> None:
    recorded.answer(
        ok(
            {
                "id": "acct_1",
                "object": "account",
                "charges_enabled": True,
                "payouts_enabled": False,
                "details_submitted": True,
                "requirements": {
                    "currently_due": ["external_account"],
                    "eventually_due": ["external_account", "individual.id_number"],
                },
            }
        )
    )

    seller = await recorded.gateway.connect.seller_account("acct_1")

    assert (recorded.last.method, recorded.last.path) == ("GET", "/v1/accounts/acct_1")
    assert (seller.charges_enabled, seller.payouts_enabled, seller.details_submitted) == (
        True,
        False,
        True,
    )
    assert seller.currently_due == ("external_account",)


async def test_a_sellers_payouts_are_listed_on_their_account(recorded: Recorded) -> None:
    payout = {
        "id": "po_1",
        "object": "payout",
        "amount": 12_345,
        "currency": "gbp",
        "arrival_date": 1_767_312_000,  # 2026-01-02
        "created": 1_767_225_600,
        "status": "failed",
        "failure_code": "account_closed",
        "failure_message": "The bank account has been closed",
    }
    recorded.answer(ok({"object": "list", "data": [payout], "has_more": True}))

    payouts = await recorded.gateway.connect.seller_payouts("acct_1", limit=1)

    assert (recorded.last.method, recorded.last.path) == ("GET", "/v1/payouts")
    assert recorded.last.form == {"limit": "1"}
    assert recorded.last.headers["stripe-account"] == "acct_1"
    assert payouts == [
        Payout(
            payout_id="po_1",
            amount=Money(12_345, "GBP"),
            status=PayoutStatus.FAILED,
            arrival_date=date(2026, 1, 2),
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            failure_code="account_closed",
        )
    ]


async def test_a_payout_status_stripe_adds_later_reads_as_not_yet_arrived(
    recorded: Recorded,
) -> None:
    payout = {
        "id": "po_2",
        "object": "payout",
        "amount": 100,
        "currency": "usd",
        "arrival_date": 1_767_312_000,
        "created": 1_767_225_600,
        "status": "on_its_way_somehow",
    }
    recorded.answer(ok({"object": "list", "data": [payout], "has_more": False}))

    [listed] = await recorded.gateway.connect.seller_payouts("acct_1")

    assert listed.status is PayoutStatus.PENDING


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(error(403, message="does not have access to account"), id="no-access"),
        pytest.param(error(403, code="account_invalid"), id="invalid-stripe-account"),
    ],
)
async def test_an_account_stripe_does_not_give_us_is_missing(
    recorded: Recorded, answer: Reply
) -> None:
    recorded.answer(answer)

    with pytest.raises(GatewayRequestError) as missing:
        await recorded.gateway.connect.seller_account("acct_gone")

    assert missing.value.code == "resource_missing"


@pytest.mark.parametrize(("capture", "method"), [(True, "automatic"), (False, "manual")])
async def test_a_destination_charge_sends_the_fee_and_the_seller(
    recorded: Recorded, capture: bool, method: str
) -> None:
    status, received = ("succeeded", 5_000) if capture else ("requires_capture", 0)
    recorded.answer(ok(intent(status, received=received)))

    await recorded.gateway.connect.destination_charge(
        usd(5_000), "pm_card_visa", "dest-1", "acct_1", usd(450), capture=capture
    )

    assert (recorded.last.method, recorded.last.path) == ("POST", "/v1/payment_intents")
    assert recorded.last.form == {
        "amount": "5000",
        "currency": "usd",
        "payment_method": "pm_card_visa",
        "capture_method": method,
        "confirm": "true",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
        "transfer_data[destination]": "acct_1",
        "application_fee_amount": "450",
        **({} if capture else MULTICAPTURE),
        **EXPAND,
    }
    assert recorded.last.idempotency_key == "dest-1"


@pytest.mark.parametrize("fee", [Money(450, "EUR"), usd(-1), usd(5_001)])
async def test_a_destination_charge_with_an_impossible_fee_is_refused_unsent(
    recorded: Recorded, fee: Money
) -> None:
    with pytest.raises(GatewayRequestError):
        await recorded.gateway.connect.destination_charge(
            usd(5_000), "pm_card_visa", "dest-2", "acct_1", fee
        )

    assert recorded.sent == []


async def test_refunding_a_destination_charge_reverses_the_transfer_and_the_fee(
    recorded: Recorded,
) -> None:
    recorded.answer(ok(refund(1_000)))

    await recorded.gateway.connect.refund_destination_charge("pi_1", usd(1_000), "dest-refund")

    assert recorded.last.form == {
        "payment_intent": "pi_1",
        "amount": "1000",
        "reverse_transfer": "true",
        "refund_application_fee": "true",
    }
    assert recorded.last.idempotency_key == "dest-refund"
