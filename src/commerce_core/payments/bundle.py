"""The ports the payment use cases move money and record it with, as one value."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_core.eventstore import Repository
from commerce_core.payments.ports.gateway import PaymentGateway
from commerce_core.shared.ports.clock import Clock, Ids


@dataclass(frozen=True, kw_only=True)
class PaymentServices:
    """What authorizing, charging, capturing, voiding and refunding use: the repository,
    the tenant's gateway (its own account, or the platform's), the clock, and ids for
    new payments. The processes that move money through the gateway (cancelling an
    order, a status change that cancels, the unpaid-order job) take it too.

    Built per tenant where the ports are wired (``entrypoints/http/bundles.py``,
    ``JobServices.payments_for``). Fields are keyword-only: a port added here (one that
    records an effect before the gateway is called, say) changes the places that build
    the bundle and the use cases that use the port, and no signature in between.
    """

    repo: Repository
    gateway: PaymentGateway
    clock: Clock
    ids: Ids
