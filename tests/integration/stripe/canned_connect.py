"""Stripe's side of Connect in canned JSON, for the recording HTTP client.

localstripe has no Connect, so the marketplace contract runs the Stripe adapter
against this responder: it answers ``POST /v1/accounts``, ``GET /v1/accounts/{id}``,
``POST /v1/account_links`` and ``GET /v1/payouts`` (``Stripe-Account`` header) with
objects shaped as Stripe documents them, replays the first answer for a repeated
idempotency key (and refuses the key with other parameters, as Stripe does), and
answers 403 for an account the platform cannot reach. What is verified is our
requests and our reading of Stripe's JSON, not Stripe's behaviour.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

import httpx

from tests.integration.stripe.recording import Reply, Sent, error, ok

LINK_LIFETIME = 300  # seconds; Stripe's account links expire after a few minutes
NEW_ACCOUNT_NEEDS = ["business_type", "external_account", "tos_acceptance.date"]


def _unix(moment: datetime | date) -> int:
    """Stripe's timestamps; a date is its midnight UTC (as a payout's ``arrival_date``)."""
    if isinstance(moment, datetime):
        return int(moment.timestamp())
    return int(datetime(moment.year, moment.month, moment.day, tzinfo=UTC).timestamp())


class CannedConnect:
    """A ``Responder`` holding accounts and payouts; ``now`` is Stripe's clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.accounts: dict[str, dict[str, Any]] = {}
        self.payouts: dict[str, list[dict[str, Any]]] = {}
        self._answers: dict[str, tuple[dict[str, str], httpx.Response]] = {}
        self._ids = itertools.count(1)

    # Stripe's side of the story

    def enable(self, account_id: str) -> None:
        """The seller finished onboarding; Stripe enabled charges and payouts."""
        self.accounts[account_id].update(
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            requirements={"currently_due": [], "eventually_due": [], "past_due": []},
        )

    def pay_out(
        self,
        account_id: str,
        amount: int,
        currency: str,
        status: str,
        arrival: date,
        created: datetime,
        failure_code: str | None = None,
    ) -> str:
        payout_id = f"po_{next(self._ids):06d}"
        self.payouts.setdefault(account_id, []).append(
            {
                "id": payout_id,
                "object": "payout",
                "amount": amount,
                "currency": currency,
                "arrival_date": _unix(arrival),
                "created": _unix(created),
                "status": status,
                "failure_code": failure_code,
                "failure_message": None if failure_code is None else "refused by the bank",
                "method": "standard",
                "type": "bank_account",
                "automatic": True,
            }
        )
        return payout_id

    # Answering requests

    def __call__(self, sent: Sent) -> Reply:
        key = sent.idempotency_key
        if sent.method == "POST" and key is not None:
            known = self._answers.get(key)
            if known is not None:
                form, answer = known
                if form != sent.form:
                    return error(
                        400,
                        type="idempotency_error",
                        message="Keys for idempotent requests can only be used with the "
                        "same parameters they were first used with.",
                    )
                return answer
        answer = self._route(sent)
        if sent.method == "POST" and key is not None:
            self._answers[key] = (sent.form, answer)
        return answer

    def _route(self, sent: Sent) -> httpx.Response:
        match sent.method, sent.path.split("/")[2:]:
            case "POST", ["accounts"]:
                return ok(self._open(sent.form))
            case "GET", ["accounts", account_id]:
                return self._account(account_id) or _no_access(account_id)
            case "POST", ["account_links"]:
                account_id = sent.form["account"]
                if account_id not in self.accounts:
                    return _no_access(account_id)
                return ok(self._link(account_id))
            case "GET", ["payouts"]:
                account_id = sent.headers.get("stripe-account", "")
                if account_id not in self.accounts:
                    return error(403, code="account_invalid", message="invalid Stripe-Account")
                return ok(self._payouts(account_id, int(sent.form.get("limit", "10"))))
        return error(404, message=f"Unrecognized request URL ({sent.method}: {sent.path})")

    def _open(self, form: dict[str, str]) -> dict[str, Any]:
        account_id = f"acct_canned{next(self._ids):06d}"
        metadata = {
            name.removeprefix("metadata[").removesuffix("]"): value
            for name, value in form.items()
            if name.startswith("metadata[")
        }
        self.accounts[account_id] = {
            "id": account_id,
            "object": "account",
            "type": "express",
            "country": form["country"],
            "email": form.get("email"),
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "capabilities": {"card_payments": "inactive", "transfers": "inactive"},
            "requirements": {
                "currently_due": list(NEW_ACCOUNT_NEEDS),
                "eventually_due": list(NEW_ACCOUNT_NEEDS),
                "past_due": [],
                "disabled_reason": "requirements.past_due",
            },
            "metadata": metadata,
            "created": _unix(self.now),
        }
        return self.accounts[account_id]

    def _account(self, account_id: str) -> httpx.Response | None:
        account = self.accounts.get(account_id)
        return None if account is None else ok(account)

    def _link(self, account_id: str) -> dict[str, Any]:
        created = _unix(self.now)
        return {
            "object": "account_link",
            "created": created,
            "expires_at": created + LINK_LIFETIME,
            "url": f"https://connect.stripe.com/setup/e/{account_id}/{next(self._ids):06d}",
        }

    def _payouts(self, account_id: str, limit: int) -> dict[str, Any]:
        newest_first = sorted(
            self.payouts.get(account_id, []), key=lambda p: (p["created"], p["id"]), reverse=True
        )
        return {
            "object": "list",
            "url": "/v1/payouts",
            "has_more": len(newest_first) > limit,
            "data": newest_first[:limit],
        }


def _no_access(account_id: str) -> httpx.Response:
    """Stripe's answer for an account that does not exist or is not the platform's."""
    return error(
        403,
        message=f"The provided key 'sk_test_***' does not have access to account "
        f"'{account_id}' (or that account does not exist). Application access may have "
        "been revoked.",
    )
