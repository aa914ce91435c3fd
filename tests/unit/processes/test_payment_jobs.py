"""Jobs over all tenants: candidates from the orders read model, each order acted on alone."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from uuid import UUID

import pytest

from adapters.payments.resolver import GatewayResolver
from commerce_core.ordering.order import SYSTEM, OrderStatus
from commerce_core.payments import services as payments
from commerce_core.payments.gateway_settings import ConfigureGateway, configure_gateway
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.ports.gateway import GatewayPayment, GatewayUnavailableError
from commerce_core.payments.ports.gateway_configs import GatewayCredentials
from commerce_core.processes.payment_jobs import (
    JobOutcome,
    cancel_unpaid_orders,
    expire_reservations,
    resolve_pending_payments,
)
from commerce_core.tenancy.ports.tenants import Tenant, TenantSettings
from tests.unit.shop import FEES, TestGateway
from tests.unit.tenant_shop import STAFF, TENANT_ID, TenantShop, a_tenant

S = OrderStatus
P = PaymentStatus
TENANTS = [a_tenant()]


@pytest.fixture
async def shop() -> TenantShop:
    shop = TenantShop()
    await shop.stock("MUG-1", quantity=5)
    return shop


async def expire(shop: TenantShop) -> JobOutcome:
    return await expire_reservations(await shop.job_services(), TENANTS)


async def cancel_unpaid(shop: TenantShop, tenants: list[Tenant] = TENANTS) -> JobOutcome:
    return await cancel_unpaid_orders(await shop.job_services(), tenants)


async def resolve(shop: TenantShop) -> JobOutcome:
    return await resolve_pending_payments(await shop.job_services(), TENANTS)


async def test_expired_holds_are_released_and_fresh_ones_kept(shop: TenantShop) -> None:
    old = await shop.order_for(("MUG-1", 2))
    shop.clock.advance(timedelta(minutes=20))
    fresh = await shop.order_for(("MUG-1", 1))
    shop.clock.advance(timedelta(minutes=10))

    outcome = await expire(shop)

    assert (outcome.examined, outcome.changed, outcome.errors) == (2, 1, [])
    assert (await shop.stock_of("MUG-1")).reserved == 1
    assert (await shop.order(old.id)).status is S.PENDING_PAYMENT
    assert (await shop.order(fresh.id)).status is S.PENDING_PAYMENT
    assert (await expire(shop)).changed == 0


async def test_unpaid_card_orders_are_cancelled_after_the_tenants_hours(shop: TenantShop) -> None:
    tenants = [a_tenant(TenantSettings(auto_cancel_unpaid_hours=2))]
    due = await shop.order_for(("MUG-1", 1))
    shop.clock.advance(timedelta(hours=1))
    young = await shop.order_for(("MUG-1", 1))
    shop.clock.advance(timedelta(hours=1))

    outcome = await cancel_unpaid(shop, tenants)

    assert outcome.changed == 1
    cancelled = await shop.order(due.id)
    assert cancelled.status is S.CANCELLED
    assert cancelled.status_history[-1].actor == SYSTEM
    assert (await shop.order(young.id)).status is S.PENDING_PAYMENT


async def test_orders_awaiting_a_bank_transfer_or_cash_are_not_auto_cancelled(
    shop: TenantShop,
) -> None:
    by_bank = await shop.order_for(("MUG-1", 1), payment_method="bank_transfer")
    by_cash = await shop.order_for(("MUG-1", 1), payment_method="cash_on_delivery")
    by_card = await shop.order_for(("MUG-1", 1), payment_method="card")
    shop.clock.advance(timedelta(days=3))

    outcome = await cancel_unpaid(shop)

    assert outcome.changed == 1
    assert (await shop.order(by_bank.id)).status is S.PENDING_PAYMENT
    assert (await shop.order(by_cash.id)).status is S.PENDING_PAYMENT
    assert (await shop.order(by_card.id)).status is S.CANCELLED


class OwnGateway(TestGateway):
    """The tenant's own account; ``unreachable`` calls to ``retrieve`` get no answer."""

    unreachable = 0

    async def retrieve(self, gateway_payment_id: str) -> GatewayPayment:
        if self.unreachable:
            self.unreachable -= 1
            raise GatewayUnavailableError("no answer")
        return await super().retrieve(gateway_payment_id)


async def own_gateway(shop: TenantShop) -> OwnGateway:
    """The tenant's own account: the jobs must use it for the tenant's payments."""
    own = OwnGateway()
    shop.gateways = GatewayResolver(shop.configs, shop.gateway, factory=lambda _: own)
    credentials = GatewayCredentials(secret_key="sk_test_1", webhook_secret="whsec_1")
    account = ConfigureGateway(gateway="stripe", credentials=credentials)
    await configure_gateway(shop.configs, shop.clock, TENANT_ID, account)
    return own


async def pay_with(shop: TenantShop, gateway: TestGateway, order_id: UUID, token: str) -> Payment:
    services = dataclasses.replace(shop.payment_services, gateway=gateway)
    command = payments.OpenPayment(order_id=order_id, token=token, gateway_name="stripe")
    result = await payments.authorize_payment(services, STAFF, command, FEES)
    return result.payment


async def test_auto_cancel_voids_a_3ds_payment_at_the_tenants_own_gateway(
    shop: TenantShop,
) -> None:
    own = await own_gateway(shop)
    order = await shop.order_for(("MUG-1", 1))
    waiting = await pay_with(shop, own, order.id, "tok_3ds")
    shop.clock.advance(timedelta(hours=24))

    outcome = await cancel_unpaid(shop)

    assert (outcome.changed, outcome.errors) == (1, [])
    assert (await shop.order(order.id)).status is S.CANCELLED
    assert (await shop.payment(waiting.id)).status is P.VOIDED


async def test_a_payment_authenticated_without_its_webhook_is_authorized_by_the_job(
    shop: TenantShop,
) -> None:
    order = await shop.order_for(("MUG-1", 2))
    waiting = (await shop.authorize(order.id, "tok_3ds", ctx=STAFF)).payment
    shop.gateway.complete_authentication(waiting.gateway_payment_id or "")  # webhook lost
    shop.clock.advance(timedelta(minutes=14))
    assert (await resolve(shop)).examined == 0  # not stuck yet

    shop.clock.advance(timedelta(minutes=1))
    outcome = await resolve(shop)

    assert (outcome.examined, outcome.changed, outcome.errors) == (1, 1, [])
    payment = await shop.payment(waiting.id)
    assert (payment.status, payment.requires_action) == (P.AUTHORIZED, False)
    assert (await shop.stock_of("MUG-1")).reserved == 2  # held for the capture
    assert (await resolve(shop)).examined == 0


async def test_a_charge_completed_at_the_gateway_pays_the_order(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 2))
    waiting = (await shop.charge(order.id, "tok_3ds", ctx=STAFF)).payment
    shop.gateway.complete_authentication(waiting.gateway_payment_id or "")
    shop.clock.advance(timedelta(hours=1))

    outcome = await resolve(shop)

    assert outcome.changed == 1
    payment = await shop.payment(waiting.id)
    assert (payment.status, payment.captured.amount) == (P.CAPTURED, 2000)
    paid = await shop.order(order.id)
    assert (paid.status, paid.paid.amount) == (S.PAID, 2000)
    assert (await shop.stock_of("MUG-1")).on_hand == 3


async def test_a_failed_authentication_fails_the_payment_and_the_order_stays_payable(
    shop: TenantShop,
) -> None:
    order = await shop.order_for(("MUG-1", 1))
    waiting = (await shop.authorize(order.id, "tok_3ds", ctx=STAFF)).payment
    shop.gateway.complete_authentication(waiting.gateway_payment_id or "", success=False)
    shop.clock.advance(timedelta(hours=1))

    await resolve(shop)

    payment = await shop.payment(waiting.id)
    assert (payment.status, payment.decline_code) == (P.FAILED, "authentication_failed")
    assert (await shop.order(order.id)).status is S.PAYMENT_FAILED


async def test_a_payment_still_waiting_for_the_customer_is_left_alone(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 1))
    waiting = (await shop.authorize(order.id, "tok_3ds", ctx=STAFF)).payment
    shop.clock.advance(timedelta(hours=1))
    before = await shop.events()

    outcome = await resolve(shop)

    assert (outcome.examined, outcome.changed) == (1, 0)
    assert await shop.events() == before
    assert (await shop.payment(waiting.id)).requires_action


async def test_a_payment_voided_at_the_gateway_is_recorded_voided(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 1))
    waiting = (await shop.authorize(order.id, "tok_3ds", ctx=STAFF)).payment
    await shop.gateway.void(waiting.gateway_payment_id or "", "voided-in-dashboard")
    shop.clock.advance(timedelta(hours=1))

    assert (await resolve(shop)).changed == 1

    assert (await shop.payment(waiting.id)).status is P.VOIDED


async def test_a_gateway_outage_is_reported_and_the_other_payments_resolved(
    shop: TenantShop,
) -> None:
    own = await own_gateway(shop)
    first = await shop.order_for(("MUG-1", 1))
    second = await shop.order_for(("MUG-1", 1))
    one = await pay_with(shop, own, first.id, "tok_3ds")
    two = await pay_with(shop, own, second.id, "tok_3ds")
    own.complete_authentication(one.gateway_payment_id or "")
    own.complete_authentication(two.gateway_payment_id or "")
    shop.clock.advance(timedelta(hours=1))
    own.unreachable = 3  # every attempt for the first payment goes unanswered

    outcome = await resolve(shop)

    assert outcome.examined == 2
    assert outcome.changed == 1
    assert len(outcome.errors) == 1
    assert "GatewayUnavailableError" in outcome.errors[0]
    statuses = {(await shop.payment(p.id)).status for p in (one, two)}
    assert statuses == {P.PENDING, P.AUTHORIZED}
