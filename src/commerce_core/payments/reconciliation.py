"""Daily reconciliation: our card payments that moved on a day, against the gateway's records.

For a UTC ``day`` every card payment with an event recorded that day is fetched
from its tenant's gateway (``retrieve``) and compared: captured, refunded
(refunds still pending on our side may already count there), status and the
gateway's fee. Each tenant gets a report, empty when nothing differs or nothing
moved; running a day again replaces its reports.

Which payments moved is read from the event log. A run remembers where the next
day's events begin (``ReconciliationRun.next_day_from``), so each day reads only
its own stretch of the log once the day before has run (the first run reads from
the start). Run a day once it has ended and its late transactions have committed
(the job waits 30 minutes past midnight).

Not covered: a payment that moved only at the gateway (a dashboard refund whose
webhook never came) is compared on the next day it moves here; the gateway port
cannot list a day's transactions. Manual payments (bank transfer, cash) have no
gateway and are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from eventsourcing.utils import get_topic

from commerce_core.eventstore import START, EventStore, Position, Repository
from commerce_core.payments.gateway_calls import call_gateway
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.ports.gateway import (
    GatewayPayment,
    GatewayRequestError,
    GatewayStatus,
    GatewayUnavailableError,
    PaymentGateway,
)
from commerce_core.payments.ports.gateway_configs import TenantGateways
from commerce_core.payments.ports.reconciliation import (
    Discrepancy,
    DiscrepancyKind,
    ReconciliationReport,
    ReconciliationReports,
    ReconciliationRun,
)
from commerce_core.shared.loading import find_owned
from commerce_core.shared.money import Money
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.values import PaymentMethod

_PAYMENT_EVENTS = get_topic(Payment) + "."
_BATCH = 1000

P = PaymentStatus
_AT_GATEWAY: dict[PaymentStatus, GatewayStatus] = {
    P.AUTHORIZED: GatewayStatus.AUTHORIZED,
    P.CAPTURED: GatewayStatus.CAPTURED,
    P.PARTIALLY_REFUNDED: GatewayStatus.CAPTURED,
    P.REFUNDED: GatewayStatus.CAPTURED,
    P.DISPUTED: GatewayStatus.CAPTURED,
    P.VOIDED: GatewayStatus.VOIDED,
    P.FAILED: GatewayStatus.FAILED,
}
"""The gateway status each of our statuses should match (pending: see ``_expected``)."""


@dataclass(frozen=True, kw_only=True)
class ReconciliationServices:
    """The ports a reconciliation reads and writes: the event log (which payments moved),
    the payments themselves, each tenant's gateway, and where reports are kept."""

    store: EventStore
    repo: Repository
    gateways: TenantGateways
    reports: ReconciliationReports
    clock: Clock


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


async def payments_moved_on(
    store: EventStore, day: date, after: Position
) -> tuple[dict[str, set[UUID]], Position]:
    """The payments with an event recorded on ``day``, per tenant, reading the log after
    ``after``; and the position after which the next day's events begin."""
    start, end = day_bounds(day)
    moved: dict[str, set[UUID]] = {}
    next_day_from: Position | None = None
    last = after
    while batch := await store.read_all(last, _BATCH):
        for recorded in batch:
            if recorded.recorded_at >= end and next_day_from is None:
                next_day_from = last
            if start <= recorded.recorded_at < end and recorded.type.startswith(_PAYMENT_EVENTS):
                moved.setdefault(recorded.metadata.tenant_id, set()).add(recorded.stream_id)
            last = recorded.position
    return moved, next_day_from or last


async def reconcile_day(
    services: ReconciliationServices, day: date, tenant_ids: Sequence[str] = ()
) -> list[ReconciliationReport]:
    """Compares the day's card payments with the gateway and saves one report per tenant
    (every one of ``tenant_ids``, and any other whose payments moved)."""
    reports = services.reports
    previous = await reports.run_for(day - timedelta(days=1))
    moved, next_day_from = await payments_moved_on(
        services.store, day, previous.next_day_from if previous else START
    )
    saved = []
    for tenant_id in dict.fromkeys([*tenant_ids, *sorted(moved)]):
        report = await reconcile_tenant(services, tenant_id, day, sorted(moved.get(tenant_id, ())))
        await reports.save(report)
        saved.append(report)
    await reports.record_run(
        ReconciliationRun(day=day, finished_at=services.clock.now(), next_day_from=next_day_from)
    )
    return saved


async def reconcile_tenant(
    services: ReconciliationServices, tenant_id: str, day: date, payment_ids: Sequence[UUID]
) -> ReconciliationReport:
    """One tenant's report for ``day`` over these payments."""
    checked = 0
    found: list[Discrepancy] = []
    gateway = await services.gateways.for_tenant(tenant_id)
    for payment_id in payment_ids:
        payment = await find_owned(services.repo, tenant_id, payment_id, Payment)
        if payment is None or payment.method is not PaymentMethod.CARD:
            continue
        gateway_id = payment.gateway_payment_id
        if gateway_id is None:
            continue
        checked += 1
        try:
            view = await _retrieve(gateway, gateway_id)
        except GatewayUnavailableError as error:
            found.append(_found(payment, DiscrepancyKind.UNCHECKED, detail=str(error)))
            continue
        except GatewayRequestError as error:
            kind = DiscrepancyKind.MISSING_AT_GATEWAY
            found.append(_found(payment, kind, detail=f"the gateway answered {error.code}"))
            continue
        found.extend(compare(payment, view))
    return ReconciliationReport(
        tenant_id=tenant_id,
        day=day,
        generated_at=services.clock.now(),
        payments_checked=checked,
        discrepancies=found,
    )


async def _retrieve(gateway: PaymentGateway, gateway_payment_id: str) -> GatewayPayment:
    return await call_gateway(lambda: gateway.retrieve(gateway_payment_id))


def compare(payment: Payment, view: GatewayPayment) -> list[Discrepancy]:
    """Where the gateway's view of ``payment`` differs from ours."""
    found: list[Discrepancy] = []
    expected = _expected(payment)
    if view.status is not expected:
        detail = f"ours {payment.status}, gateway {view.status} (expected {expected})"
        found.append(_found(payment, DiscrepancyKind.STATUS, detail=detail))
    if view.captured != payment.captured:
        found.append(_amounts(payment, DiscrepancyKind.CAPTURED, payment.captured, view.captured))
    in_flight = payment.refunded + payment.refund_pending
    if view.refunded not in (payment.refunded, in_flight):
        found.append(_amounts(payment, DiscrepancyKind.REFUNDED, payment.refunded, view.refunded))
    if view.gateway_fee is not None and view.gateway_fee != payment.gateway_fee:
        kind = DiscrepancyKind.GATEWAY_FEE
        found.append(_amounts(payment, kind, payment.gateway_fee, view.gateway_fee))
    return found


def _expected(payment: Payment) -> GatewayStatus:
    if payment.status is P.PENDING:
        # waiting for 3-D Secure; a pending payment that never reached the gateway has no id
        return GatewayStatus.REQUIRES_ACTION
    return _AT_GATEWAY[payment.status]


def _found(payment: Payment, kind: DiscrepancyKind, detail: str = "") -> Discrepancy:
    return Discrepancy(
        payment_id=payment.id,
        order_id=payment.order_id,
        gateway=payment.gateway,
        gateway_payment_id=payment.gateway_payment_id,
        kind=kind,
        currency=payment.currency,
        detail=detail,
    )


def _amounts(payment: Payment, kind: DiscrepancyKind, ours: Money, theirs: Money) -> Discrepancy:
    return Discrepancy(
        payment_id=payment.id,
        order_id=payment.order_id,
        gateway=payment.gateway,
        gateway_payment_id=payment.gateway_payment_id,
        kind=kind,
        currency=payment.currency,
        ours=ours.amount,
        theirs=theirs.amount,
        detail=f"ours {ours}, gateway {theirs}",
    )
