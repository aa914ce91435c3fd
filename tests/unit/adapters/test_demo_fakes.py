"""The demo mode's fakes after a restart: their ids must not repeat the stored ones."""

from __future__ import annotations

import pytest
from dependency_injector import providers

from adapters.memory.payment_gateway import FakePaymentGateway
from adapters.payments.resolver import default_marketplace
from commerce_core.shared.money import Money
from entrypoints.container import Container, build_container
from entrypoints.settings import Settings


def _without_database(settings: Settings) -> Container:
    """A container with no pool (EVENT_STORE=memory): the test gateway keeps its payments
    in memory; on PostgreSQL it keeps them in its tables (tests/integration)."""
    container = build_container(settings)
    container.pool.override(providers.Object(None))
    return container


async def test_a_restarted_demo_gateway_and_marketplace_hand_out_new_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAYMENT_GATEWAY", "fake")
    settings = Settings.from_env()
    runs = [_without_database(settings).payment_gateway() for _ in range(2)]
    payments = [await gateway.charge(Money(500, "USD"), "tok_visa", "key-1") for gateway in runs]
    refunds = [
        await gateway.refund(payment.gateway_payment_id, Money(100, "USD"), "key-2")
        for gateway, payment in zip(runs, payments, strict=True)
    ]
    accounts = [
        await default_marketplace(gateway).create_seller_account("key-3", "GB") for gateway in runs
    ]

    assert payments[0].gateway_payment_id != payments[1].gateway_payment_id
    assert refunds[0].gateway_refund_id != refunds[1].gateway_refund_id
    assert accounts[0].account_id != accounts[1].account_id
    assert all(isinstance(gateway, FakePaymentGateway) for gateway in runs)
