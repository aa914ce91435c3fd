"""Marketplace payments as Stripe receives them, on recorded requests (localstripe has no
Connect): destination charges with the platform fee, the fee sent again on capture, refunds
that reverse the seller's transfer and carry our ids. Driven through the gateway, and through
our payment and refund use cases end to end."""

from __future__ import annotations

import dataclasses

from commerce_core.marketplace.seller import Seller
from commerce_core.payments import refunds
from commerce_core.payments import services as payments
from commerce_core.payments.ports.gateway import Destination
from commerce_core.shared.money import Money
from tests.integration.stripe.recording import EXPAND, Recorded, charge, intent, ok, refund
from tests.unit.shop import FEES, STAFF, TENANT, Shop, keyed


def usd(cents: int) -> Money:
    return Money(cents, "USD")


async def test_a_destination_charge_sends_the_seller_s_account_and_the_fee(
    recorded: Recorded,
) -> None:
    recorded.answer(ok(intent("succeeded", received=5_000, latest_charge=charge(5_000, 5_000))))
    seller = Destination(account_id="acct_seller_1", application_fee=usd(150))

    await recorded.gateway.charge(usd(5_000), "pm_card_visa", "charge-1", destination=seller)

    assert recorded.last.form["transfer_data[destination]"] == "acct_seller_1"
    assert recorded.last.form["application_fee_amount"] == "150"
    assert recorded.last.form["capture_method"] == "automatic"


async def test_a_capture_sends_the_fee_on_what_it_captures(recorded: Recorded) -> None:
    recorded.answer(ok(intent("succeeded", received=3_000, latest_charge=charge(5_000, 3_000))))

    await recorded.gateway.capture("pi_1", usd(3_000), "capture-1", application_fee=usd(90))

    assert recorded.last.form == {
        "amount_to_capture": "3000",
        "application_fee_amount": "90",
        **EXPAND,
    }


async def test_a_refund_reverses_the_transfer_and_carries_our_ids(recorded: Recorded) -> None:
    recorded.answer(ok(refund(1_000)))
    ours = {"tenant_id": "t-1", "order_id": "o-1", "payment_id": "p-1", "refund_id": "r-1"}

    await recorded.gateway.refund(
        "pi_1", usd(1_000), "refund-1", "damaged", reverse_transfer=True, metadata=ours
    )

    assert recorded.last.form == {
        "payment_intent": "pi_1",
        "amount": "1000",
        "reverse_transfer": "true",
        "refund_application_fee": "true",
        "metadata[tenant_id]": "t-1",
        "metadata[order_id]": "o-1",
        "metadata[payment_id]": "p-1",
        "metadata[refund_id]": "r-1",
        "metadata[reason]": "damaged",
    }


async def test_a_seller_s_payment_and_its_refund_reach_stripe_as_destination_charge_and_reversal(
    recorded: Recorded,
) -> None:
    shop = Shop()
    await shop.product("MUG-1", price=1000, stock=5)
    now = shop.clock.now()
    seller = Seller.open(TENANT, "seller-1", "stripe", "acct_seller_1", "US", now)
    seller.record_account_state(True, True, True, now, "evt_1", now)
    await shop.repo.save(seller, metadata=STAFF.metadata())
    order = await shop.place(("MUG-1", 2))
    recorded.answer(
        ok(intent("succeeded", amount=2_000, received=2_000, latest_charge=charge(2_000, 2_000))),
        ok(refund(500)),
    )

    gateway = recorded.gateway
    services = dataclasses.replace(shop.payment_services, gateway=gateway)
    command = payments.OpenPayment(order_id=order.id, token="tok", seller_id="seller-1")
    charged = await payments.charge_payment(services, STAFF, command, FEES)
    refunded = await refunds.refund_payment(services, keyed("r-1"), charged.payment.id, 500)

    [sent_charge, sent_refund] = recorded.sent
    assert sent_charge.form["transfer_data[destination]"] == "acct_seller_1"
    assert sent_charge.form["application_fee_amount"] == str(charged.payment.platform_fee.amount)
    assert charged.payment.platform_fee == usd(60)
    assert sent_charge.form["metadata[payment_id]"] == str(charged.payment.id)
    assert {k: v for k, v in sent_refund.form.items() if k != "amount"} == {
        "payment_intent": "pi_1",
        "reverse_transfer": "true",
        "refund_application_fee": "true",
        "metadata[tenant_id]": TENANT,
        "metadata[order_id]": str(order.id),
        "metadata[payment_id]": str(charged.payment.id),
        "metadata[refund_id]": str(refunded.id),
    }
    assert sent_refund.idempotency_key == f"{refunded.id}:refund"
