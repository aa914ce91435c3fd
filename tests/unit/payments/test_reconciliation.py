"""Daily reconciliation: each day's card payments against the gateway's records."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from adapters.payments.resolver import GatewayResolver
from commerce_core.payments.ports.gateway import GatewayPayment, GatewayUnavailableError
from commerce_core.payments.ports.reconciliation import DiscrepancyKind, ReconciliationReport
from commerce_core.payments.reconciliation import ReconciliationServices, reconcile_day
from commerce_core.processes.manual_payments import ManualReceipt, record_manual_payment
from commerce_core.shared.money import Money
from commerce_core.shared.values import PaymentMethod
from tests.unit.shop import FEES, TestGateway
from tests.unit.tenant_shop import STAFF, TENANT_KEY, TenantShop

K = DiscrepancyKind
DAY = date(2026, 1, 1)  # the shop's clock starts at noon that day


@pytest.fixture
async def shop() -> TenantShop:
    shop = TenantShop()
    await shop.stock("MUG-1", price=1000, quantity=20)
    return shop


async def reconcile(
    shop: TenantShop, day: date = DAY, tenants: tuple[str, ...] = (TENANT_KEY,)
) -> list[ReconciliationReport]:
    services = ReconciliationServices(
        store=shop.store,
        repo=shop.repo,
        gateways=shop.gateways,
        reports=shop.reports,
        clock=shop.clock,
    )
    return await reconcile_day(services, day, tenants)


async def report_of(shop: TenantShop, day: date = DAY) -> ReconciliationReport:
    [report] = await reconcile(shop, day)
    return report


async def test_payments_that_agree_with_the_gateway_give_an_empty_report(
    shop: TenantShop,
) -> None:
    charged = await shop.order_for(("MUG-1", 1))
    await shop.charge(charged.id, ctx=STAFF)
    refunded = await shop.order_for(("MUG-1", 2))
    payment = (await shop.charge(refunded.id, ctx=STAFF)).payment
    await shop.refund_payment(payment.id, 500, ctx=STAFF)
    authorized = await shop.order_for(("MUG-1", 1))
    await shop.authorize(authorized.id, ctx=STAFF)

    report = await report_of(shop)

    assert (report.payments_checked, report.discrepancies, report.complete) == (3, [], True)
    assert await shop.reports.get(TENANT_KEY, DAY) == report


async def test_a_refund_made_only_at_the_gateway_is_reported(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 2))
    payment = (await shop.charge(order.id, ctx=STAFF)).payment
    gateway_id = payment.gateway_payment_id or ""
    await shop.gateway.refund(gateway_id, Money(700, "USD"), "dashboard-refund")

    report = await report_of(shop)

    [found] = report.discrepancies
    assert (found.kind, found.ours, found.theirs) == (K.REFUNDED, 0, 700)
    assert (found.payment_id, found.order_id, found.gateway_payment_id) == (
        payment.id,
        order.id,
        gateway_id,
    )


async def test_a_payment_captured_at_the_gateway_but_pending_here_is_reported(
    shop: TenantShop,
) -> None:
    order = await shop.order_for(("MUG-1", 1))
    waiting = (await shop.charge(order.id, "tok_3ds", ctx=STAFF)).payment
    shop.gateway.complete_authentication(waiting.gateway_payment_id or "")

    report = await report_of(shop)

    kinds = {d.kind: d for d in report.discrepancies}
    assert set(kinds) == {K.STATUS, K.CAPTURED, K.GATEWAY_FEE}
    assert (kinds[K.CAPTURED].ours, kinds[K.CAPTURED].theirs) == (0, 1000)


class MuteGateway(TestGateway):
    """Stops answering ``retrieve`` while ``mute``."""

    mute = False

    async def retrieve(self, gateway_payment_id: str) -> GatewayPayment:
        if self.mute:
            raise GatewayUnavailableError("no answer")
        return await super().retrieve(gateway_payment_id)


async def test_a_payment_the_gateway_could_not_be_asked_about_is_listed_unchecked() -> None:
    gateway = MuteGateway()
    shop = TenantShop(gateway=gateway)
    await shop.stock("MUG-1")
    order = await shop.order_for(("MUG-1", 1))
    await shop.charge(order.id, ctx=STAFF)
    gateway.fail_next_call()  # one lost answer is asked again
    assert (await report_of(shop)).complete

    gateway.mute = True
    report = await report_of(shop)

    assert [d.kind for d in report.discrepancies] == [K.UNCHECKED]
    assert not report.complete


async def test_a_payment_unknown_to_the_gateway_is_reported_missing(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 1))
    await shop.charge(order.id, ctx=STAFF)
    shop.gateways = GatewayResolver(shop.configs, TestGateway())  # knows nothing of it

    report = await report_of(shop)

    assert [d.kind for d in report.discrepancies] == [K.MISSING_AT_GATEWAY]


async def test_only_the_days_card_payments_are_compared(shop: TenantShop) -> None:
    yesterday = await shop.order_for(("MUG-1", 1))
    await shop.charge(yesterday.id, ctx=STAFF)
    shop.clock.advance(timedelta(days=1))
    today = await shop.order_for(("MUG-1", 1))
    await shop.charge(today.id, ctx=STAFF)
    by_bank = await shop.order_for(("MUG-1", 1))
    receipt = ManualReceipt(method=PaymentMethod.BANK_TRANSFER, reference="B-1")
    await record_manual_payment(shop.manual_payment_services, STAFF, by_bank.id, receipt, FEES)

    first = await report_of(shop, DAY)
    second = await report_of(shop, DAY + timedelta(days=1))

    assert (first.payments_checked, second.payments_checked) == (1, 1)


async def test_a_day_is_read_from_where_the_day_before_ended(shop: TenantShop) -> None:
    order = await shop.order_for(("MUG-1", 1))
    await shop.charge(order.id, ctx=STAFF)
    end_of_day = await shop.store.head()
    shop.clock.advance(timedelta(days=1))
    await shop.charge((await shop.order_for(("MUG-1", 1))).id, ctx=STAFF)

    await reconcile(shop, DAY)

    run = await shop.reports.run_for(DAY)
    assert run is not None
    assert run.next_day_from == end_of_day
    assert (await report_of(shop, DAY + timedelta(days=1))).payments_checked == 1


async def test_every_tenant_gets_a_report_even_without_payments(shop: TenantShop) -> None:
    quiet = str(uuid.uuid4())

    reports = await reconcile(shop, tenants=(TENANT_KEY, quiet))

    assert [(r.tenant_id, r.payments_checked) for r in reports] == [
        (TENANT_KEY, 0),
        (quiet, 0),
    ]
    assert await shop.reports.get(quiet, DAY) is not None
