"""One story told by Stripe's webhooks, with every event type we handle, and its outcome.

Five payments of one order total each, opened as ``gateway="stripe"``:

- ``paid``: a charge waiting for 3-D Secure, which the customer completes; then 500 is
  refunded in Stripe's dashboard (a refund we never asked for);
- ``declined``: a charge waiting for 3-D Secure, declined (insufficient funds);
- ``abandoned``: an authorization waiting for 3-D Secure, which Stripe cancels (voided);
- ``disputed``: a charge captured at once, disputed and lost;
- ``released``: an authorization (its uncaptured charge announced too) that Stripe cancels
  when it expires (voided, whichever arrives first).

And a seller, opened beforehand (``open_seller``), whose account Stripe enables (two
``account.updated``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from commerce_core.eventstore import Repository
from commerce_core.marketplace.seller import Seller
from commerce_core.ordering.order import Order
from commerce_core.payments.payment import Payment
from commerce_core.shared.context import CommandContext
from tests.stripe_events import StripeEvents

SELLER = "acct_seller_1"
SELLER_ID = "seller-1"
ROLES = ("paid", "declined", "abandoned", "disputed", "released")


def story_events(events: StripeEvents, payments: dict[str, Payment], at: datetime) -> list[bytes]:
    """The story's events in the order Stripe would send them (one second apart)."""
    paid, declined = payments["paid"], payments["declined"]
    abandoned, disputed = payments["abandoned"], payments["disputed"]
    released = payments["released"]
    total = paid.amount.amount
    refund = events.refund(paid, "re_dashboard_1", 500, "succeeded")
    issuer_decline = {"code": "card_declined", "decline_code": "insufficient_funds"}
    story: list[tuple[str, dict[str, object]]] = [
        ("account.updated", events.account(SELLER, False, False, SELLER_ID)),
        *(
            ("payment_intent.created", events.intent(p, "requires_action"))
            for p in payments.values()
        ),
        ("charge.succeeded", events.charge(paid, captured=True, amount_captured=total)),
        ("payment_intent.succeeded", events.intent(paid, "succeeded", amount_received=total)),
        (
            "payment_intent.payment_failed",
            events.intent(declined, "requires_payment_method", last_payment_error=issuer_decline),
        ),
        (
            "charge.failed",
            events.charge(
                declined,
                captured=False,
                failure_code="card_declined",
                outcome={"type": "issuer_declined", "reason": "insufficient_funds"},
            ),
        ),
        (
            "payment_intent.canceled",
            events.intent(abandoned, "canceled", cancellation_reason="abandoned"),
        ),
        ("charge.succeeded", events.charge(released, captured=False)),
        (
            "payment_intent.canceled",
            events.intent(released, "canceled", cancellation_reason="automatic"),
        ),
        ("refund.created", {**refund, "status": "pending"}),
        (
            "charge.refunded",
            events.charge(paid, captured=True, amount_refunded=500, refunds={"data": [refund]}),
        ),
        ("refund.updated", refund),
        ("charge.dispute.created", events.dispute(disputed, "dp_1", "needs_response")),
        ("charge.dispute.closed", events.dispute(disputed, "dp_1", "lost")),
        ("account.updated", events.account(SELLER, True, True, SELLER_ID)),
    ]
    return [
        events.event(type, obj, at + timedelta(seconds=n)) for n, (type, obj) in enumerate(story)
    ]


@dataclass(frozen=True)
class PaymentState:
    status: str
    captured: int
    refunded: int
    charged_back: int
    decline_code: str | None
    dispute: str | None
    refunds: tuple[tuple[int, str], ...]
    order_status: str
    order_paid: int
    order_refunded: int


async def open_seller(repo: Repository, tenant_id: str, at: datetime) -> Seller:
    """The story's seller, whose account our onboarding opened (as ``SELLER``)."""
    seller = Seller.open(tenant_id, SELLER_ID, "stripe", SELLER, "GB", at)
    await repo.save(seller, metadata=CommandContext(tenant_id, "staff").metadata())
    return seller


async def story_state(
    repo: Repository, payment_ids: dict[str, UUID], tenant_id: str
) -> tuple[dict[str, PaymentState], tuple[bool, bool]]:
    """What the story left: each payment and its order, and the seller's flags."""
    states = {}
    for role, payment_id in payment_ids.items():
        payment = await repo.get(payment_id, kind=Payment)
        order = await repo.get(payment.order_id, kind=Order)
        states[role] = PaymentState(
            status=str(payment.status),
            captured=payment.captured.amount,
            refunded=payment.refunded.amount,
            charged_back=payment.charged_back.amount,
            decline_code=payment.decline_code,
            dispute=None if payment.dispute is None else str(payment.dispute.status),
            refunds=tuple((r.amount.amount, str(r.status)) for r in payment.refunds),
            order_status=str(order.status),
            order_paid=order.paid.amount,
            order_refunded=order.refunded.amount,
        )
    seller = await repo.get(Seller.id_for(tenant_id, SELLER_ID), kind=Seller)
    return states, (seller.charges_enabled, seller.payouts_enabled)


def expected_payments(total: int) -> dict[str, tuple[object, ...]]:
    """Each payment's (status, captured, refunded, charged back, decline code, dispute,
    refunds) when each payment is of ``total``."""
    return {
        "paid": ("partially_refunded", total, 500, 0, None, None, ((500, "succeeded"),)),
        "declined": ("failed", 0, 0, 0, "insufficient_funds", None, ()),
        "abandoned": ("voided", 0, 0, 0, None, None, ()),
        "disputed": ("disputed", total, 0, total, None, "lost", ()),
        "released": ("voided", 0, 0, 0, None, None, ()),
    }
