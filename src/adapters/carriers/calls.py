"""What both carrier adapters do with HTTP: send, read JSON, turn failures into error kinds.

A timeout, a connection failure, a 5xx or an unreadable answer is ``CarrierUnavailableError``
(worth asking again, with the same key); a 4xx is the vendor refusing, and the adapter reads
its message from the vendor's own error body.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from commerce_core.fulfilment.ports import CarrierUnavailableError
from commerce_core.shared.money import CURRENCY_EXPONENTS, Money

TIMEOUT = httpx.Timeout(15.0, connect=5.0)


async def send(client: httpx.AsyncClient, vendor: str, request: httpx.Request) -> httpx.Response:
    """Sends ``request``; a 5xx or no answer at all raises ``CarrierUnavailableError``."""
    try:
        response = await client.send(request)
    except httpx.TimeoutException as error:
        raise CarrierUnavailableError(f"{vendor} did not answer in time") from error
    except httpx.TransportError as error:
        raise CarrierUnavailableError(f"{vendor} is unreachable: {error}") from error
    if response.status_code >= 500:
        raise CarrierUnavailableError(f"{vendor} failed ({response.status_code})")
    return response


def json_of(response: httpx.Response, vendor: str) -> Any:
    """The answer's JSON; an answer that is not JSON is ``CarrierUnavailableError``."""
    try:
        return response.json()
    except ValueError as error:
        raise CarrierUnavailableError(
            f"{vendor} answered {response.status_code} with a body that is not JSON"
        ) from error


def field(data: Any, *path: str | int) -> Any:
    """``data[a][b]...``, or ``CarrierUnavailableError`` when the vendor left it out."""
    node = data
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError) as error:
            raise CarrierUnavailableError(f"the carrier's answer lacks {path}") from error
    return node


def as_list(value: Any) -> list[Any]:
    """UPS sends one item as an object and several as a list."""
    return value if isinstance(value, list) else [value]


def money(amount: str | float | int, currency: str) -> Money:
    """A vendor's decimal amount (``"12.34"``, ``12.34``) in minor units of ``currency``."""
    exponent = CURRENCY_EXPONENTS.get(currency.upper())
    try:
        value = Decimal(str(amount))
    except InvalidOperation as error:
        raise CarrierUnavailableError(f"the carrier sent the amount {amount!r}") from error
    if exponent is None or not value.is_finite():
        raise CarrierUnavailableError(f"the carrier sent {amount!r} {currency!r}")
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise CarrierUnavailableError(f"{amount} {currency} has more decimals than it allows")
    return Money(int(minor), currency.upper())
