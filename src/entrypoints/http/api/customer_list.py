"""GET /customers (search by email, tag, segment) and GET /customers/segments/{name}."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from commerce_core.projections.customer_search import (
    CustomerListItem,
    CustomerListPage,
    CustomerLists,
    CustomerSearch,
    SegmentName,
    search_customers,
)
from commerce_core.projections.ports.lists import CreatedCursor
from entrypoints.http.api import cursors
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services, tenant_of, tenant_settings

Limit = Annotated[int, Parameter(ge=1, le=200, description="Items per page (default 50).")]
CursorQuery = Annotated[
    str | None, Parameter(max_length=200, description="`next_cursor` of the previous page.")
]


class CustomerListOut(msgspec.Struct):
    items: list[CustomerListItem]
    next_cursor: str | None


class SegmentOut(msgspec.Struct):
    name: SegmentName
    currency: str
    items: list[CustomerListItem]
    next_cursor: str | None


class CustomerListController(Controller):
    path = "/customers"
    tags = ["customers"]

    @get("/", summary="List and search customers", responses=query_problems("forbidden"))
    async def list_customers(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        email: Annotated[str | None, Parameter(max_length=320)] = None,
        tag: Annotated[str | None, Parameter(max_length=64)] = None,
        segment: SegmentName | None = None,
        limit: Limit = 50,
        cursor: CursorQuery = None,
    ) -> CustomerListOut:
        """The tenant's customers, oldest first, matching every filter given: ``email``
        (exact, any letter case), ``tag``, ``segment`` (evaluated now, as the customer's
        analytics). Names, emails and tags show as `GET /customers/{id}` shows them: none
        once a customer is erased, and an erased customer is found by neither. A read
        model: it may lag a change by a moment. Admin and staff keys; changes nothing."""
        search = CustomerSearch(email=email, tag=tag, segment=segment)
        page = await self._search(services, principal, search, limit, cursor)
        return CustomerListOut(page.items, cursors.encode(page.next_cursor))

    @get(
        "/segments/{name:str}",
        summary="Show a segment and its members",
        responses=query_problems("not-found", "forbidden"),
    )
    async def segment(
        self,
        name: FromPath[str],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        limit: Limit = 50,
        cursor: CursorQuery = None,
    ) -> SegmentOut:
        """The customers in the segment ``vip``, ``high_value_new`` or ``at_risk`` now,
        by the tenant's segment rules (another name: 404), oldest customer first, one page
        at a time. Admin and staff keys; changes nothing."""
        try:
            segment = SegmentName(name)
        except ValueError:
            known = ", ".join(s.value for s in SegmentName)
            raise problem(
                404, "not-found", f"no segment named {name!r}; segments: {known}"
            ) from None
        page = await self._search(
            services, principal, CustomerSearch(segment=segment), limit, cursor
        )
        currency = (await tenant_settings(services, principal)).segment_rules.currency
        return SegmentOut(segment, currency, page.items, cursors.encode(page.next_cursor))

    @staticmethod
    async def _search(
        services: Services,
        principal: Principal,
        search: CustomerSearch,
        limit: int,
        cursor: str | None,
    ) -> CustomerListPage:
        settings = await tenant_settings(services, principal)
        return await search_customers(
            CustomerLists(services.list_queries, services.keyring),
            tenant_of(principal),
            msgspec.structs.replace(
                search, limit=limit, after=cursors.decode(cursor, CreatedCursor)
            ),
            settings.segment_rules,
            services.clock.now(),
        )
