"""Jobs over every tenant: find candidate orders, then act on each one alone.

Candidates come from the orders read model (orders awaiting payment:
``pending_payment`` or ``payment_failed``), which may lag or hold stale rows;
each per-order step loads the order itself and does nothing when nothing is
due, so running a job twice, or in two processes, is harmless. One order's
failure (a gateway down, a conflict) is reported and the job goes on.

- ``expire_reservations``: releases expired stock holds (``jobs.expire_order_reservations``).
- ``cancel_unpaid_orders``: cancels card (or unspecified) orders unpaid after the
  tenant's ``auto_cancel_unpaid_hours`` (``jobs.auto_cancel_unpaid``). Orders to be
  paid by bank transfer wait for staff: their money arrives outside any gateway,
  often days later, and their stock holds expire anyway. Cash-on-delivery orders are
  paid at the door: they ship unpaid and hold their stock until they ship.
- ``resolve_pending_payments``: asks the gateway about payments still ``pending``
  (waiting for 3-D Secure) after ``stuck_after``, and records what it says as the
  gateway's event would (``gateway_events``), so a lost webhook is made good.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from commerce_core.eventstore import AggregateNotFoundError, EventStoreError, Repository
from commerce_core.ordering.loading import load_ledger, load_order
from commerce_core.ordering.order import SYSTEM, OrderStatus
from commerce_core.ordering.ports.order_queries import OrderFilters, OrderQueries, OrderSummary
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.gateway_calls import call_gateway
from commerce_core.payments.loading import load_payments
from commerce_core.payments.payment import Payment, PaymentStatus
from commerce_core.payments.ports.gateway import GatewayError, GatewayPayment, GatewayStatus
from commerce_core.payments.ports.gateway_configs import TenantGateways
from commerce_core.payments.ports.webhooks import GatewayEvent, GatewayEventKind
from commerce_core.payments.voids import apply_void
from commerce_core.payments.webhooks.events import record_gateway_event
from commerce_core.processes.manual_payments import MANUAL_METHODS
from commerce_core.processes.order_jobs import auto_cancel_unpaid, expire_order_reservations
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.shared.retry import retry_on_conflict
from commerce_core.shared.values import PaymentMethod
from commerce_core.tenancy.ports.tenants import Tenant

AWAITING = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAYMENT_FAILED)
PAGE = 200
STUCK_AFTER = timedelta(minutes=15)
"""How long a payment may wait for 3-D Secure before the gateway is asked about it."""

_INSTANT = timedelta(microseconds=1)  # ``created_to`` excludes its bound: include "due" itself

# What one order's step may fail with, without stopping the job for the others.
EXPECTED_FAILURES = (DomainError, GatewayError, EventStoreError, AggregateNotFoundError)

_KINDS = {
    GatewayStatus.AUTHORIZED: GatewayEventKind.PAYMENT_AUTHORIZED,
    GatewayStatus.CAPTURED: GatewayEventKind.PAYMENT_SUCCEEDED,
    GatewayStatus.FAILED: GatewayEventKind.PAYMENT_FAILED,
}


@dataclass(frozen=True, kw_only=True)
class JobServices:
    """The ports the jobs use: the orders read model finds candidates, ``gateways`` gives
    each tenant's gateway."""

    repo: Repository
    clock: Clock
    ids: Ids
    gateways: TenantGateways
    order_queries: OrderQueries

    async def payments_for(self, tenant_id: str) -> PaymentServices:
        """The payment ports of one tenant: its own gateway, or the platform's."""
        return PaymentServices(
            repo=self.repo,
            gateway=await self.gateways.for_tenant(tenant_id),
            clock=self.clock,
            ids=self.ids,
        )


@dataclass
class JobOutcome:
    """What a run did: candidates ``examined``, orders or payments ``changed``, notes for
    an operator (money that moved but the order could not follow), per-item ``errors``."""

    job: str
    examined: int = 0
    changed: int = 0
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def system_context(tenant_id: str | UUID) -> CommandContext:
    return CommandContext(tenant_id=str(tenant_id), actor=SYSTEM)


async def awaiting_payment(
    queries: OrderQueries, tenant_id: str, created_before: datetime
) -> AsyncIterator[OrderSummary]:
    """The tenant's orders awaiting payment placed before ``created_before``, page by page."""
    for status in AWAITING:
        filters = OrderFilters(status=status, created_to=created_before)
        page = await queries.list_orders(tenant_id, filters, PAGE, None)
        while True:
            for summary in page.items:
                yield summary
            if page.next_cursor is None:
                break
            page = await queries.list_orders(tenant_id, filters, PAGE, page.next_cursor)


async def expire_reservations(services: JobServices, tenants: Sequence[Tenant]) -> JobOutcome:
    """Releases every expired stock hold of orders awaiting payment."""
    repo, clock, queries = services.repo, services.clock, services.order_queries
    outcome = JobOutcome("expire-reservations")
    now = clock.now()
    for tenant in tenants:
        ctx = system_context(tenant.id)
        # a hold lasts at least a minute: younger orders cannot have an expired one
        async for summary in awaiting_payment(queries, ctx.tenant_id, now - timedelta(minutes=1)):
            outcome.examined += 1
            try:
                if await expire_order_reservations(repo, clock, ctx, summary.id):
                    outcome.changed += 1
            except EXPECTED_FAILURES as error:
                outcome.errors.append(f"order {summary.id}: {error!r}")
    return outcome


async def cancel_unpaid_orders(services: JobServices, tenants: Sequence[Tenant]) -> JobOutcome:
    """Cancels card orders still unpaid after their tenant's ``auto_cancel_unpaid_hours``."""
    repo, queries = services.repo, services.order_queries
    outcome = JobOutcome("auto-cancel-unpaid")
    now = services.clock.now()
    for tenant in tenants:
        ctx = system_context(tenant.id)
        hours = tenant.settings.auto_cancel_unpaid_hours
        due = now - timedelta(hours=hours)
        async for summary in awaiting_payment(queries, ctx.tenant_id, due + _INSTANT):
            outcome.examined += 1
            try:
                order = await load_order(repo, ctx.tenant_id, summary.id)
                if order.payment_method in MANUAL_METHODS:
                    continue
                payments = await services.payments_for(ctx.tenant_id)
                cancelled = await auto_cancel_unpaid(payments, ctx, summary.id, hours)
                outcome.changed += cancelled is not None
            except EXPECTED_FAILURES as error:
                outcome.errors.append(f"order {summary.id}: {error!r}")
    return outcome


async def resolve_pending_payments(
    services: JobServices, tenants: Sequence[Tenant], stuck_after: timedelta = STUCK_AFTER
) -> JobOutcome:
    """Brings card payments left ``pending`` longer than ``stuck_after`` up to the gateway."""
    repo, queries = services.repo, services.order_queries
    outcome = JobOutcome("resolve-pending-payments")
    stuck_before = services.clock.now() - stuck_after
    for tenant in tenants:
        ctx = system_context(tenant.id)
        async for summary in awaiting_payment(queries, ctx.tenant_id, stuck_before + _INSTANT):
            try:
                order = await load_order(repo, ctx.tenant_id, summary.id)
                payments = await load_payments(repo, await load_ledger(repo, order))
            except EXPECTED_FAILURES as error:
                outcome.errors.append(f"order {summary.id}: {error!r}")
                continue
            for payment in payments:
                if not _stuck(payment, stuck_before):
                    continue
                outcome.examined += 1
                try:
                    changed, note = await resolve_payment(services, ctx, payment)
                except EXPECTED_FAILURES as error:
                    outcome.errors.append(f"payment {payment.id}: {error!r}")
                    continue
                outcome.changed += changed
                if note:
                    outcome.notes.append(f"payment {payment.id}: {note}")
    return outcome


def _stuck(payment: Payment, stuck_before: datetime) -> bool:
    return (
        payment.status is PaymentStatus.PENDING
        and payment.method is PaymentMethod.CARD
        and payment.gateway_payment_id is not None
        and payment.updated_at <= stuck_before
    )


async def resolve_payment(
    services: JobServices, ctx: CommandContext, payment: Payment
) -> tuple[bool, str | None]:
    """Asks the gateway about one pending payment and records its answer; whether anything
    changed, and a note for an operator if the order could not follow."""
    gateway_id = payment.gateway_payment_id
    assert gateway_id is not None
    repo, clock = services.repo, services.clock
    gateway = await services.gateways.for_tenant(ctx.tenant_id)
    view = await call_gateway(lambda: gateway.retrieve(gateway_id))
    if view.status is GatewayStatus.REQUIRES_ACTION:
        return False, None  # the customer may still authenticate; the unpaid job ends it
    if view.status is GatewayStatus.VOIDED:
        return await _record_void(repo, clock, ctx, payment.id, view), None
    event = GatewayEvent(
        # one id per payment and answer: a second run finds it processed
        id=f"retrieved:{payment.id}:{view.status}",
        kind=_KINDS[view.status],
        gateway_payment_id=gateway_id,
        gateway=payment.gateway,
        payment_id=payment.id,
        amount=view.captured if view.status is GatewayStatus.CAPTURED else None,
        gateway_fee=view.gateway_fee,
        code=view.decline_code,
    )
    recorded = await record_gateway_event(repo, clock, ctx, event)
    return recorded.applied, recorded.attention


async def _record_void(
    repo: Repository, clock: Clock, ctx: CommandContext, payment_id: UUID, view: GatewayPayment
) -> bool:
    at = clock.now()

    async def record() -> bool:
        payment = await repo.get(payment_id, kind=Payment)
        apply_void(payment, view, at)
        return bool(await repo.save(payment, metadata=ctx.metadata()))

    return await retry_on_conflict(record)
