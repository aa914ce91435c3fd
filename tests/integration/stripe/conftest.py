"""Fixtures for the Stripe adapter: gateways on localstripe (``server``) or on a recorder."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from adapters.payments.stripe import StripeGateway
from tests.integration.stripe.recording import Recorded
from tests.integration.stripe.server import SECRET_KEY, LocalStripe, localstripe

__all__ = ["localstripe"]  # the session's server, for the tests here


@pytest.fixture
async def gateway(localstripe: LocalStripe) -> AsyncIterator[StripeGateway]:
    """A gateway on an empty localstripe; no retries (tests of retries build their own)."""
    localstripe.clear()
    # localstripe refuses automatic_payment_methods, which real Stripe needs (see the adapter)
    gateway = StripeGateway(
        SECRET_KEY, api_base=localstripe.url, max_retries=0, redirect_free=False
    )
    yield gateway
    await gateway.close()


@pytest.fixture
async def recorded() -> AsyncIterator[Recorded]:
    """A gateway on a recording HTTP client, 2 retries, waits recorded (not slept)."""
    recorded = Recorded()
    yield recorded
    await recorded.gateway.close()
