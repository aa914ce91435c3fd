"""Analytics: dashboards and per-customer metrics, from the read models (may lag a moment)."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from commerce_core.customers.services import load_customer
from commerce_core.ordering.ports.order_queries import OrderFilters
from commerce_core.projections.attribution_report import GroupBy
from commerce_core.projections.ports.analytics import (
    AttributionReport,
    CustomerAnalytics,
    CustomersDashboard,
    OrdersDashboard,
)
from commerce_core.shared.money import check_currency
from entrypoints.http.api.order_list import OrderListOut, decode_cursor, encode_cursor
from entrypoints.http.api.schemas import Currency
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services, tenant_of, tenant_settings

# Days a dashboard may name: the default range (30 days back) and the end of its last
# day (one day on) must stay within what `date` can hold.
FIRST_DAY = date.min + timedelta(days=29)
LAST_DAY = date.max - timedelta(days=1)


def _dashboard_day(day: date | None, name: str) -> date | None:
    if day is not None and not FIRST_DAY <= day <= LAST_DAY:
        raise problem(422, "validation-error", f"{name} must be from {FIRST_DAY} to {LAST_DAY}")
    return day


class AnalyticsController(Controller):
    path = "/analytics"
    tags = ["analytics"]

    @get("/orders/dashboard", summary="Orders dashboard", responses=query_problems())
    async def orders_dashboard(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        from_: Annotated[date | None, Parameter(query="from")] = None,
        to: date | None = None,
        currency: Currency | None = None,
    ) -> OrdersDashboard:
        """Orders, revenue, rates and daily figures for UTC days ``from``..``to`` (inclusive;
        default the last 30 days)."""
        if currency is not None:
            check_currency(currency)  # litestar does not hold query strings to the pattern
        settings = await tenant_settings(services, principal)
        end = _dashboard_day(to, "to") or services.clock.now().astimezone(UTC).date()
        start = _dashboard_day(from_, "from") or end - timedelta(days=29)
        return await services.analytics.orders_dashboard(
            tenant_of(principal), currency or settings.segment_rules.currency, start, end
        )

    @get("/attribution", summary="Orders and revenue by attribution", responses=query_problems())
    async def attribution(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        from_: Annotated[date | None, Parameter(query="from")] = None,
        to: date | None = None,
        group_by: GroupBy = GroupBy.SOURCE,
        currency: Currency | None = None,
    ) -> AttributionReport:
        """Orders placed in UTC days ``from``..``to`` (inclusive; default the last 30 days),
        grouped by UTM ``source``, ``medium``, ``campaign`` or sales ``channel`` (an imported
        order's channel, e.g. ``etsy``): orders, revenue, average order value and refund
        rate per group; orders without a value are in ``(none)``. In the tenant's dashboard
        currency unless ``currency`` is given. Every tenant role; changes nothing."""
        if currency is not None:
            check_currency(currency)
        settings = await tenant_settings(services, principal)
        end = _dashboard_day(to, "to") or services.clock.now().astimezone(UTC).date()
        start = _dashboard_day(from_, "from") or end - timedelta(days=29)
        return await services.analytics.attribution(
            tenant_of(principal),
            currency or settings.segment_rules.currency,
            start,
            end,
            group_by,
        )

    @get("/customers/dashboard", summary="Customers dashboard", responses=query_problems())
    async def customers_dashboard(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        currency: Currency | None = None,
    ) -> CustomersDashboard:
        """Customers with orders, new this month, repeat rate, segments and monthly cohorts."""
        settings = await tenant_settings(services, principal)
        rules = settings.segment_rules
        if currency is not None:
            rules = msgspec.structs.replace(rules, currency=currency)
        return await services.analytics.customers_dashboard(
            tenant_of(principal), rules, services.clock.now()
        )


class CustomerAnalyticsController(Controller):
    path = "/customers/{customer_id:uuid}"
    tags = ["customers"]

    @get("/analytics", summary="Show a customer's analytics", responses=query_problems("not-found"))
    async def analytics(
        self,
        customer_id: UUID,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
    ) -> CustomerAnalytics:
        """Totals, average order value, first and last order, and the customer's segments."""
        tenant = tenant_of(principal)
        await load_customer(services.repo, tenant, customer_id)
        settings = await tenant_settings(services, principal)
        return await services.analytics.customer_analytics(
            tenant, customer_id, settings.segment_rules, services.clock.now()
        )

    @get("/orders", summary="List a customer's orders", responses=query_problems("not-found"))
    async def orders(
        self,
        customer_id: UUID,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
    ) -> OrderListOut:
        """The customer's orders, newest first."""
        tenant = tenant_of(principal)
        await load_customer(services.repo, tenant, customer_id)
        page = await services.order_queries.list_orders(
            tenant, OrderFilters(customer_id=customer_id), limit, decode_cursor(cursor)
        )
        return OrderListOut(page.items, encode_cursor(page.next_cursor))
