"""The list projections on the memory read model: customers (search by blind index, segments
evaluated now, erasure), products by SKU, payments by status, newest first."""

from __future__ import annotations

import uuid
from datetime import timedelta

from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.keyring import MemoryKeyring
from adapters.memory.list_queries import MemoryListQueries
from adapters.memory.readmodel import MemoryReadModel
from commerce_core.catalog.product import Product
from commerce_core.customers import services as app
from commerce_core.customers.segments import SegmentRules
from commerce_core.customers.services import CustomerPatch, CustomerServices, RegisterCustomer
from commerce_core.eventstore import EventMetadata, Repository
from commerce_core.projections.customer_list import CustomerList
from commerce_core.projections.customer_metrics import CustomerMetricsProjection
from commerce_core.projections.customer_search import (
    CustomerListPage,
    CustomerLists,
    CustomerSearch,
    SegmentName,
    search_customers,
)
from commerce_core.projections.payment_list import PaymentList
from commerce_core.projections.ports.lists import PaymentFilters
from commerce_core.projections.product_list import ProductList
from commerce_core.projections.runner import ProjectionRunner
from commerce_core.shared.context import CommandContext
from commerce_core.shared.money import Money
from tests.privacy import in_the_clear
from tests.unit.notifications.test_contacts import CountingKeyStore
from tests.unit.projections.shop import T0, Shop, days

STAFF = CommandContext(tenant_id="acme", actor="staff-1")
OTHER = CommandContext(tenant_id="other", actor="staff-2")
RULES = SegmentRules()


class Lists:
    def __init__(self) -> None:
        self.store = MemoryEventStore()
        self.repo = Repository(self.store)
        self.keys = CountingKeyStore()
        self.keyring = MemoryKeyring(store=self.keys)
        self.services = CustomerServices(
            repo=self.repo, keyring=self.keyring, clock=FixedClock(T0), ids=RandomIds()
        )
        self.read_model = MemoryReadModel()
        self.queries = MemoryListQueries(self.read_model)

    async def register(
        self, email: str, ctx: CommandContext = STAFF, **fields: object
    ) -> uuid.UUID:
        command = RegisterCustomer(email=email, **fields)  # type: ignore[arg-type]
        return (await app.register_customer(self.services, ctx, command)).id

    async def project(self) -> None:
        projections = [CustomerList(), CustomerMetricsProjection(), ProductList(), PaymentList()]
        async with ProjectionRunner(self.store, self.read_model, projections) as runner:
            head = await self.store.head()
            for projection in projections:
                await runner.wait_for(projection.name, head)

    async def search(self, now_days: float = 0, **criteria: object) -> CustomerListPage:
        search = CustomerSearch(**criteria)  # type: ignore[arg-type]
        lists = CustomerLists(self.queries, self.keyring)
        return await search_customers(lists, "acme", search, RULES, T0 + days(now_days))


async def test_customers_are_found_by_email_and_tag_and_not_once_erased() -> None:
    lists = Lists()
    ada = await lists.register("Ada@Example.com", name="Ada", tags=["vip", "Wholesale"])
    bob = await lists.register("bob@example.com", tags=["wholesale"])
    await lists.register("ada@example.com", OTHER, tags=["vip"])
    await lists.project()

    [found] = (await lists.search(email="ADA@example.com")).items
    assert (found.id, found.name, found.email, found.tags) == (
        ada,
        "Ada",
        "Ada@example.com",
        ["vip", "wholesale"],
    )
    assert {c.id for c in (await lists.search(tag="WHOLESALE")).items} == {ada, bob}
    assert (await lists.search(tag="gold")).items == []
    rows = await lists.read_model.rows("customer_list")
    stored = in_the_clear(str(rows)).lower()  # sealed or hashed only
    assert "example.com" not in stored
    assert "wholesale" not in stored

    await app.erase_customer(lists.services, STAFF, ada)
    await lists.project()
    assert (await lists.search(email="ada@example.com")).items == []
    assert [c.id for c in (await lists.search(tag="wholesale")).items] == [bob]
    erased = next(c for c in (await lists.search()).items if c.id == ada)
    assert (erased.status, erased.name, erased.email, erased.tags) == ("erased", None, None, [])


async def test_a_page_of_customers_opens_with_one_key_lookup_an_erased_one_closed() -> None:
    lists = Lists()
    ids = [
        await lists.register(f"c{n}@example.com", name=f"C{n}", tags=["vip", "b2b"])
        for n in range(12)
    ]
    await app.erase_customer(lists.services, STAFF, ids[5])
    await lists.project()
    lists.keys.loads = 0

    page = await lists.search(limit=20)

    assert lists.keys.loads == 1
    opened = {c.id: (c.email, c.name, c.tags) for c in page.items}
    assert opened == {
        i: (None, None, []) if n == 5 else (f"c{n}@example.com", f"C{n}", ["vip", "b2b"])
        for n, i in enumerate(ids)
    }


async def test_new_tags_replace_the_old_ones_in_the_search() -> None:
    lists = Lists()
    ada = await lists.register("ada@example.com", tags=["old"])
    await app.update_customer(lists.services, STAFF, ada, CustomerPatch(tags=["new"]))
    await lists.project()
    assert (await lists.search(tag="old")).items == []
    assert [c.id for c in (await lists.search(tag="new")).items] == [ada]


async def test_a_customer_becomes_at_risk_with_time_as_the_analytics_say() -> None:
    lists = Lists()
    ada = await lists.register("ada@example.com")
    await lists.register("bob@example.com")
    shop = Shop()
    shop.paid(ada, 20_000, T0)
    await shop.save(lists.store)
    await lists.project()

    soon = await lists.search(now_days=10, segment=SegmentName.AT_RISK)
    assert soon.items == []
    [new] = (await lists.search(now_days=10, segment=SegmentName.HIGH_VALUE_NEW)).items
    assert (new.id, new.segments, new.total_orders, new.total_spent) == (
        ada,
        ["high_value_new"],
        1,
        20_000,
    )
    [late] = (await lists.search(now_days=RULES.at_risk_after_days + 1, segment="at_risk")).items
    assert (late.id, late.segments) == (ada, ["at_risk"])


async def test_products_are_listed_by_sku_with_their_last_price() -> None:
    lists = Lists()
    repo = Repository(lists.store)
    for sku in ("MUG-2", "CUP-1", "MUG-1"):
        product = Product.define("acme", sku, sku.title(), Money(100, "USD"), 0, T0)
        product.change(sku.title(), Money(250, "USD"), 500, T0 + timedelta(hours=1))
        await repo.save(product, metadata=EventMetadata(tenant_id="acme"))
    other = Product.define("other", "ZZZ", "Theirs", Money(1, "EUR"), 0, T0)
    await repo.save(other, metadata=EventMetadata(tenant_id="other"))
    await lists.project()

    first = await lists.queries.products("acme", 2, None)
    assert [p.sku for p in first.items] == ["CUP-1", "MUG-1"]
    assert (first.items[0].price, first.items[0].tax_rate_bps) == (250, 500)
    second = await lists.queries.products("acme", 2, first.next_cursor)
    assert ([p.sku for p in second.items], second.next_cursor) == (["MUG-2"], None)


async def test_payments_are_listed_newest_first_by_status_and_tenant() -> None:
    lists = Lists()
    shop = Shop()
    declined = shop.attempt(shop.order(uuid.uuid4(), 1000, T0), T0, declined=True)
    authorized = shop.attempt(shop.order(uuid.uuid4(), 1000, T0 + days(1)), T0 + days(1))
    theirs = shop.attempt(shop.order(uuid.uuid4(), 1000, T0, tenant="other"), T0)
    await shop.save(lists.store)
    await lists.project()

    page = await lists.queries.payments("acme", PaymentFilters(), 1, None)
    assert [r.payment_id for r in page.rows] == [authorized.id]
    rest = await lists.queries.payments("acme", PaymentFilters(), 1, page.next_cursor)
    assert ([r.payment_id for r in rest.rows], rest.next_cursor) == ([declined.id], None)
    failed = await lists.queries.payments("acme", PaymentFilters(status="failed"), 50, None)
    assert [r.payment_id for r in failed.rows] == [declined.id]
    other = await lists.queries.payments("other", PaymentFilters(), 50, None)
    assert [r.payment_id for r in other.rows] == [theirs.id]
