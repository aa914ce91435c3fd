"""Stripe webhook events as Stripe sends them (the fields our translation reads, and a few
more), and Stripe's signature, for tests that play the gateway's side."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from datetime import datetime
from typing import Any

import msgspec

from commerce_core.payments.payment import Payment

SECRET = "whsec_test_commerce_core"


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header: ``t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>``."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class StripeEvents:
    """Builds events about our payments; ``created`` is ``at`` (the gateway's clock)."""

    def __init__(self, tenant_id: str, prefix: str = "evt") -> None:
        self.tenant_id = tenant_id
        self._ids = itertools.count(1)
        self._prefix = prefix

    def event(self, type: str, obj: dict[str, Any], at: datetime) -> bytes:
        return msgspec.json.encode(
            {
                "id": f"{self._prefix}_{next(self._ids):06d}",
                "object": "event",
                "api_version": "2025-09-30.clover",
                "created": int(at.timestamp()),
                "livemode": False,
                "pending_webhooks": 1,
                "type": type,
                "data": {"object": obj},
            }
        )

    def metadata(self, payment: Payment) -> dict[str, str]:
        """What our Stripe adapter sends with a PaymentIntent (Stripe copies it to charges)."""
        return {
            "tenant_id": self.tenant_id,
            "order_id": str(payment.order_id),
            "payment_id": str(payment.id),
        }

    def intent(self, payment: Payment, status: str, **fields: Any) -> dict[str, Any]:
        return {
            "id": payment.gateway_payment_id,
            "object": "payment_intent",
            "amount": payment.amount.amount,
            "currency": payment.currency.lower(),
            "status": status,
            "metadata": self.metadata(payment),
            **fields,
        }

    def charge(self, payment: Payment, **fields: Any) -> dict[str, Any]:
        return {
            "id": f"ch_{payment.gateway_payment_id}",
            "object": "charge",
            "amount": payment.amount.amount,
            "currency": payment.currency.lower(),
            "payment_intent": payment.gateway_payment_id,
            "metadata": self.metadata(payment),
            "balance_transaction": "txn_1",
            **fields,
        }

    def refund(self, payment: Payment, refund_id: str, amount: int, status: str) -> dict[str, Any]:
        return {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "currency": payment.currency.lower(),
            "payment_intent": payment.gateway_payment_id,
            "charge": f"ch_{payment.gateway_payment_id}",
            "status": status,
            "metadata": {},
        }

    def dispute(
        self, payment: Payment, dispute_id: str, status: str, **fields: Any
    ) -> dict[str, Any]:
        return {
            "id": dispute_id,
            "object": "dispute",
            "amount": payment.amount.amount,
            "currency": payment.currency.lower(),
            "payment_intent": payment.gateway_payment_id,
            "charge": f"ch_{payment.gateway_payment_id}",
            "reason": "fraudulent",
            "status": status,
            "metadata": {},
            **fields,
        }

    def account(
        self, account_id: str, charges: bool, payouts: bool, seller_id: str | None = None
    ) -> dict[str, Any]:
        """A connected account; ``seller_id`` as our adapter opens it (None: opened
        elsewhere, without our metadata)."""
        metadata = (
            {} if seller_id is None else {"tenant_id": self.tenant_id, "seller_id": seller_id}
        )
        return {
            "id": account_id,
            "object": "account",
            "charges_enabled": charges,
            "payouts_enabled": payouts,
            "details_submitted": True,
            "requirements": {"currently_due": [] if payouts else ["external_account"]},
            "metadata": metadata,
        }
