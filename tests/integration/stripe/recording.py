"""An HTTP client for the stripe SDK that records every request and answers from a script.

It is a ``stripe.HTTPClient`` (the SDK's extension point) sending through httpx with a
``MockTransport``, so requests are encoded by the real SDK and transport errors become the
SDK's ``APIConnectionError`` as with its own httpx client. Tests read what was sent (method,
path, form fields, headers) and script what comes back: canned JSON, an HTTP error, or a
network failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import httpx
import stripe

from adapters.payments.stripe import StripeGateway

SECRET_KEY = "sk_test_recorded"
EXPAND = {"expand[0]": "latest_charge.balance_transaction"}  # sent with every PaymentIntent call
# sent with every authorization (manual capture)
MULTICAPTURE = {"payment_method_options[card][request_multicapture]": "if_available"}


@dataclass(frozen=True)
class Sent:
    """One request as it left the SDK."""

    method: str
    path: str
    form: dict[str, str]  # the POST body, or the query of a GET, flattened as Stripe's
    headers: dict[str, str]  # lower-case names

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


Reply = httpx.Response | Exception
Responder = Callable[[Sent], Reply]


def ok(body: Mapping[str, Any]) -> httpx.Response:
    return httpx.Response(200, json=dict(body))


def error(status: int, headers: Mapping[str, str] | None = None, **fields: Any) -> httpx.Response:
    """A Stripe error answer, e.g. ``error(402, code="card_declined", payment_intent={...})``."""
    body = {"error": {"type": "invalid_request_error", "message": "refused", **fields}}
    return httpx.Response(status, json=body, headers=dict(headers or {}))


class RecordingHTTPClient(stripe.HTTPClient):
    """Answers each request with the next reply in ``script``, then with ``responder``."""

    name = "recording"

    def __init__(self, responder: Responder | None = None, script: list[Reply] | None = None):
        super().__init__()
        self.responder = responder
        self.script = list(script or [])
        self.sent: list[Sent] = []
        self._client = httpx.AsyncClient(transport=httpx.MockTransport(self._answer))

    def _answer(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode() if request.method == "POST" else request.url.query.decode()
        sent = Sent(
            method=request.method,
            path=request.url.path,
            form=dict(parse_qsl(body, keep_blank_values=True)),
            headers={name.lower(): value for name, value in request.headers.items()},
        )
        self.sent.append(sent)
        reply = self.script.pop(0) if self.script else self._default(sent)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _default(self, sent: Sent) -> Reply:
        if self.responder is None:
            raise AssertionError(f"no reply scripted for {sent.method} {sent.path}")
        return self.responder(sent)

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = await self._client.request(
                method, url, headers=dict(headers), content=post_data
            )
        except httpx.TransportError as failure:  # as stripe.HTTPXClient does
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                f"network error: {failure!r}", should_retry=True
            ) from failure
        return response.content, response.status_code, response.headers

    def sleep_async(self, secs: float) -> Awaitable[None]:
        raise AssertionError("the SDK's own retries must stay off")

    async def close_async(self) -> None:
        await self._client.aclose()


class Recorded:
    """A Stripe gateway whose requests are recorded, and the waits between its retries."""

    def __init__(self, max_retries: int = 2) -> None:
        self.http = RecordingHTTPClient()
        self.waits: list[float] = []
        self.gateway = StripeGateway(
            SECRET_KEY, max_retries=max_retries, sleep=self._sleep, http_client=self.http
        )

    async def _sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def answer(self, *replies: Reply) -> None:
        """Scripts the next answers, in order."""
        self.http.script.extend(replies)

    @property
    def sent(self) -> list[Sent]:
        return self.http.sent

    @property
    def last(self) -> Sent:
        return self.http.sent[-1]


def connection_refused() -> httpx.ConnectError:
    return httpx.ConnectError("connection refused")


def read_timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("timed out")


def charge(
    amount: int,
    captured: int | None = None,
    refunded: int = 0,
    fee: int | None = None,
    currency: str = "usd",
) -> dict[str, Any]:
    """A Charge as Stripe returns it, with its balance transaction expanded once captured."""
    transaction = None
    if fee is not None:
        transaction = {
            "id": "txn_1",
            "object": "balance_transaction",
            "fee": fee,
            "currency": currency,
        }
    return {
        "id": "ch_1",
        "object": "charge",
        "amount": amount,
        "amount_captured": captured or 0,
        "amount_refunded": refunded,
        "captured": captured is not None,
        "currency": currency,
        "balance_transaction": transaction,
    }


def intent(
    status: str,
    amount: int = 5_000,
    received: int = 0,
    latest_charge: dict[str, Any] | None = None,
    currency: str = "usd",
    **fields: Any,
) -> dict[str, Any]:
    """A PaymentIntent as Stripe returns it."""
    return {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": amount,
        "amount_received": received,
        "currency": currency,
        "status": status,
        "client_secret": "pi_1_secret_abc",
        "last_payment_error": None,
        "latest_charge": latest_charge,
        **fields,
    }


def refund(amount: int, status: str = "succeeded", refund_id: str = "re_1") -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "currency": "usd",
        "payment_intent": "pi_1",
        "status": status,
    }


def declined(code: str, decline_code: str | None) -> Reply:
    """A card error as Stripe sends it: the failed PaymentIntent inside."""
    message = "Your card was declined."
    failure = {"code": code, "decline_code": decline_code, "message": message}
    failed = intent("requires_payment_method", last_payment_error=failure)
    return error(
        402,
        type="card_error",
        payment_intent=failed,
        code=code,
        decline_code=decline_code,
        message=message,
    )
