"""Calling the payment gateway: retried with the same idempotency key when no answer came."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from commerce_core.payments.ports.gateway import GatewayUnavailableError

T = TypeVar("T")

GATEWAY_ATTEMPTS = 3


async def call_gateway(call: Callable[[], Awaitable[T]], attempts: int = GATEWAY_ATTEMPTS) -> T:
    """Runs ``call`` again when the gateway gave no answer (it may have acted).

    ``call`` must send the same request with the same idempotency key each time,
    so a repeat returns the first outcome and moves money at most once. After
    ``attempts`` the last ``GatewayUnavailableError`` propagates: nothing was
    recorded, and running the whole command again is safe (see ``command_ids``).
    """
    for _ in range(attempts - 1):
        try:
            return await call()
        except GatewayUnavailableError:
            continue
    return await call()
