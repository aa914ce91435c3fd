"""A shop on in-memory adapters, for the order, payment and shipment use-case specs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

import msgspec

from adapters.memory.carrier import FakeCarrier, OneCarrier
from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.keyring import MemoryKeyring
from adapters.memory.label_documents import MemoryLabelDocuments
from adapters.memory.order_numbers import MemoryOrderNumbers
from adapters.memory.payment_gateway import FakePaymentGateway
from commerce_core.catalog.services import PutProduct, put_product
from commerce_core.customers.services import (
    CustomerServices,
    RegisterCustomer,
    register_customer,
)
from commerce_core.eventstore import (
    START,
    AppendStream,
    EventMetadata,
    EventStoreError,
    RecordedEvent,
    Repository,
)
from commerce_core.inventory.services import (
    ReceiveStock,
    StockLevels,
    receive_stock,
    stock_levels,
)
from commerce_core.ordering.order import Order
from commerce_core.ordering.services import CustomerRef, OrderServices, PlaceOrder, place_order
from commerce_core.payments import refunds
from commerce_core.payments import services as payments
from commerce_core.payments.bundle import PaymentServices
from commerce_core.payments.fees import FeeSchedule
from commerce_core.payments.payment import Payment
from commerce_core.payments.ports.gateway import (
    Destination,
    GatewayPayment,
    GatewayRefund,
    GatewayRefundStatus,
    GatewayUnavailableError,
)
from commerce_core.payments.refund_effects import RefundResult
from commerce_core.payments.refunds import RefundOrder
from commerce_core.payments.services import OpenPayment, PaymentResult
from commerce_core.processes.cancellation import cancel_order
from commerce_core.processes.manual_payments import ManualPaymentServices
from commerce_core.processes.shipping import ShippingServices
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from commerce_core.shared.values import Address, Sku, SkuQuantity

R = TypeVar("R")

TENANT = "tenant-1"
STAFF = CommandContext(tenant_id=TENANT, actor="staff-1")
FEES = FeeSchedule(basis_points=300)
HOME = Address(
    name="Ada Lovelace", line1="12 St James Sq", city="London", postal_code="SW1Y 4JH", country="GB"
)


def usd(amount: int) -> Money:
    return Money(amount, "USD")


def keyed(key: str, ctx: CommandContext = STAFF) -> CommandContext:
    """``ctx`` with an idempotency key, as a retried HTTP request carries it."""
    return CommandContext(tenant_id=ctx.tenant_id, actor=ctx.actor, idempotency_key=key)


class TestEventStore(MemoryEventStore):
    """The memory store with two faults a test can switch on: failing appends (the
    database went away; after ``passing_appends`` more appends succeed, e.g. the intent
    was recorded and then the database went away after the gateway acted), and reads that
    let other tasks run (so concurrent commands interleave as they would on a real
    database)."""

    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.failing_appends = 0
        self.passing_appends = 0
        self.planned: list[Exception | None] = []  # per append: pass (None) or raise
        self.yield_on_read = False

    async def append(
        self, streams: Sequence[AppendStream], metadata: EventMetadata
    ) -> list[RecordedEvent]:
        if self.planned:
            if (fault := self.planned.pop(0)) is not None:
                raise fault
        elif self.passing_appends:
            self.passing_appends -= 1
        elif self.failing_appends:
            self.failing_appends -= 1
            raise EventStoreError("the database went away")
        return await super().append(streams, metadata)

    async def read_stream(
        self, stream_id: UUID, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        events = await super().read_stream(stream_id, from_version, to_version)
        if self.yield_on_read:
            await asyncio.sleep(0)  # other tasks run while this one holds what it read
        return events


class TestGateway(FakePaymentGateway):
    """The fake gateway, with an outage that a test can make last several calls."""

    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.unanswered = 0
        self.refunds_pending = False  # answer refunds ``pending``, as banks sometimes do

    def lose_answers(self, calls: int) -> None:
        """The next ``calls`` calls take effect (once per idempotency key), but their
        answers are lost on the way back."""
        self.unanswered = calls

    async def _answer(self, call: Awaitable[R]) -> R:
        answer = await call
        if self.unanswered:
            self.unanswered -= 1
            raise GatewayUnavailableError("no answer")
        return answer

    async def charge(
        self,
        amount: Money,
        token: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        destination: Destination | None = None,
    ) -> GatewayPayment:
        return await self._answer(
            super().charge(amount, token, idempotency_key, metadata, destination)
        )

    async def refund(
        self,
        gateway_payment_id: str,
        amount: Money,
        idempotency_key: str,
        reason: str | None = None,
        reverse_transfer: bool = False,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayRefund:
        refund = await self._answer(
            super().refund(
                gateway_payment_id, amount, idempotency_key, reason, reverse_transfer, metadata
            )
        )
        if self.refunds_pending:
            return msgspec.structs.replace(refund, status=GatewayRefundStatus.PENDING)
        return refund


@dataclass
class Shop:
    store: TestEventStore = field(default_factory=TestEventStore)
    clock: FixedClock = field(default_factory=FixedClock)
    ids: RandomIds = field(default_factory=RandomIds)
    numbers: MemoryOrderNumbers = field(default_factory=MemoryOrderNumbers)
    keyring: MemoryKeyring = field(default_factory=MemoryKeyring)
    gateway: TestGateway = field(default_factory=TestGateway)
    carrier: FakeCarrier = field(default_factory=FakeCarrier)
    labels: MemoryLabelDocuments = field(default_factory=MemoryLabelDocuments)

    def __post_init__(self) -> None:
        self.repo = Repository(self.store)

    # The use cases' ports, built from the shop's current adapters

    @property
    def order_services(self) -> OrderServices:
        return OrderServices(
            repo=self.repo,
            clock=self.clock,
            ids=self.ids,
            order_numbers=self.numbers,
            keyring=self.keyring,
        )

    @property
    def payment_services(self) -> PaymentServices:
        return PaymentServices(repo=self.repo, gateway=self.gateway, clock=self.clock, ids=self.ids)

    @property
    def shipping_services(self) -> ShippingServices:
        return ShippingServices(
            repo=self.repo,
            clock=self.clock,
            ids=self.ids,
            carriers=OneCarrier(self.carrier),
            keyring=self.keyring,
            labels=self.labels,
        )

    @property
    def manual_payment_services(self) -> ManualPaymentServices:
        return ManualPaymentServices(repo=self.repo, clock=self.clock, ids=self.ids)

    @property
    def customer_services(self) -> CustomerServices:
        return CustomerServices(
            repo=self.repo, keyring=self.keyring, clock=self.clock, ids=self.ids
        )

    # Arranging

    async def product(
        self,
        sku: str,
        price: int = 1000,
        stock: int = 10,
        *,
        currency: str = "USD",
        tax_rate_bps: int = 0,
        location: str = "default",
    ) -> None:
        defined = PutProduct(
            sku=sku, name=sku.title(), price=Money(price, currency), tax_rate_bps=tax_rate_bps
        )
        await put_product(self.repo, self.clock, STAFF, defined)
        if stock:
            receipt = ReceiveStock(sku=sku, quantity=stock, location_id=location)
            await receive_stock(self.repo, self.clock, STAFF, receipt)

    async def customer(self, email: str = "ada@example.com") -> UUID:
        view = await register_customer(self.customer_services, STAFF, RegisterCustomer(email=email))
        return view.id

    # Acting

    async def place(
        self,
        *lines: tuple[str, int],
        customer: CustomerRef | None = None,
        ctx: CommandContext = STAFF,
        **fields: object,
    ) -> Order:
        command = PlaceOrder(
            customer=customer or CustomerRef(email="ada@example.com"),
            lines=[SkuQuantity(Sku(sku), quantity) for sku, quantity in lines],
            currency=str(fields.pop("currency", "USD")),
            **fields,  # type: ignore[arg-type]
        )
        return await place_order(self.order_services, ctx, command)

    async def authorize(
        self, order_id: UUID, token: str = "tok_visa", ctx: CommandContext = STAFF
    ) -> PaymentResult:
        command = OpenPayment(order_id=order_id, token=token, gateway_name="fake")
        return await payments.authorize_payment(self.payment_services, ctx, command, FEES)

    async def charge(
        self, order_id: UUID, token: str = "tok_visa", ctx: CommandContext = STAFF
    ) -> PaymentResult:
        command = OpenPayment(order_id=order_id, token=token, gateway_name="fake")
        return await payments.charge_payment(self.payment_services, ctx, command, FEES)

    async def capture(
        self, payment_id: UUID, amount: int | None = None, ctx: CommandContext = STAFF
    ) -> PaymentResult:
        return await payments.capture_payment(self.payment_services, ctx, payment_id, amount)

    async def void(self, payment_id: UUID, ctx: CommandContext = STAFF) -> Payment:
        return await payments.void_payment(self.payment_services, ctx, payment_id)

    async def refund_payment(
        self, payment_id: UUID, amount: int, ctx: CommandContext = STAFF
    ) -> RefundResult:
        return await refunds.refund_payment(
            self.payment_services, ctx, payment_id, amount, "requested"
        )

    async def refund_order(
        self,
        order_id: UUID,
        amount: int | None = None,
        *,
        restock: bool = False,
        restock_lines: list[SkuQuantity] | None = None,
        ctx: CommandContext = STAFF,
    ) -> list[RefundResult]:
        command = RefundOrder(
            amount=amount, reason="requested", restock=restock, restock_lines=restock_lines
        )
        return await refunds.refund_order(self.payment_services, ctx, order_id, command)

    async def cancel(self, order_id: UUID, ctx: CommandContext = STAFF) -> Order:
        return await cancel_order(self.payment_services, ctx, order_id, "changed mind")

    # Looking

    async def order(self, order_id: UUID) -> Order:
        return await self.repo.get(order_id, kind=Order)

    async def payments(self, order_id: UUID) -> list[Payment]:
        return await payments.order_payments(self.repo, TENANT, order_id)

    async def payment(self, payment_id: UUID) -> Payment:
        return await self.repo.get(payment_id, kind=Payment)

    async def levels(self, sku: str) -> StockLevels:
        return await stock_levels(self.repo, TENANT, sku, self.clock.now())

    async def events(self) -> list[RecordedEvent]:
        return await self.store.read_all(START, limit=1_000_000)

    async def event_types(self, stream_id: UUID) -> list[str]:
        return [r.type.rsplit(".", 1)[-1] for r in await self.store.read_stream(stream_id)]
