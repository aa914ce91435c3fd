"""Stripe Connect requests (onboarding, destination charges), on recorded requests.

localstripe has no Connect (accounts, account links and application fees all 404), so the
exact request shapes are checked on what the SDK sends through a recording HTTP client.
"""

from __future__ import annotations

import pytest

from commerce_core.domain.money import Money
from commerce_core.ports.payment_gateway import (
    GatewayRequestError,
)
from tests.integration.stripe.recording import (
    EXPAND,
    Recorded,
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
    recorded.answer(ok({"object": "account_link", "url": "https://connect.stripe.com/setup/e/x"}))

    url = await recorded.gateway.connect.onboarding_link(
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
    assert url == "https://connect.stripe.com/setup/e/x"


async def test_a_sellers_account_is_read_for_its_capabilities(recorded: Recorded) -> None:
    recorded.answer(
        ok(
            {
                "id": "acct_1",
                "object": "account",
                "charges_enabled": True,
                "payouts_enabled": True,
                "details_submitted": True,
            }
        )
    )

    seller = await recorded.gateway.connect.seller_account("acct_1")

    assert (recorded.last.method, recorded.last.path) == ("GET", "/v1/accounts/acct_1")
    assert (seller.charges_enabled, seller.payouts_enabled, seller.details_submitted) == (
        True,
        True,
        True,
    )


@pytest.mark.parametrize(("capture", "method"), [(True, "automatic"), (False, "manual")])
async def test_a_destination_charge_sends_the_fee_and_the_seller(
    recorded: Recorded, capture: bool, method: str
) -> None:
    recorded.answer(ok(intent("succeeded" if capture else "requires_capture", received=5_000)))

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
