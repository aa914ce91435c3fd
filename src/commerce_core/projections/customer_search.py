"""`GET /customers` and `GET /customers/segments/{name}`: find customers without plain data.

An email or a tag is searched by its blind index (the keyed hash the customer
list stores, ADR 0025), never by its text. A segment is evaluated now, by the
same ``segments_for`` and the same metrics as `GET /customers/{id}/analytics`,
so the list and the analytics agree at every moment (at-risk comes with time,
with no event). Each listed customer's email, name and tags are opened with
their own key, as `GET /customers/{id}` shows them: an erased customer shows none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import msgspec

from commerce_core.customers import profile
from commerce_core.customers.customer import CustomerStatus
from commerce_core.customers.emails import email_index
from commerce_core.customers.segments import AT_RISK, HIGH_VALUE_NEW, VIP, SegmentRules
from commerce_core.customers.tags import tag_index
from commerce_core.customers.views import customer_tags
from commerce_core.projections.customer_metrics import CustomerMetrics
from commerce_core.projections.ports.lists import (
    CreatedCursor,
    CustomerFilters,
    CustomerRow,
    ListQueries,
)
from commerce_core.projections.segments import segments_for
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.pii import Encrypted
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.shared.sealing import unseal


class SegmentName(StrEnum):
    VIP = VIP
    HIGH_VALUE_NEW = HIGH_VALUE_NEW
    AT_RISK = AT_RISK


class CustomerSearch(msgspec.Struct, frozen=True, kw_only=True):
    """What to look for (every criterion given must match) and which page."""

    email: str | None = None
    tag: str | None = None
    segment: SegmentName | None = None
    limit: int = 50
    after: CreatedCursor | None = None


@dataclass(frozen=True)
class CustomerLists:
    """What searching customers reads: the list read models and the keys of the blind indexes."""

    queries: ListQueries
    keyring: Keyring


class CustomerListItem(msgspec.Struct, frozen=True, kw_only=True):
    """A customer as the list shows them; personal fields null once erased."""

    id: UUID
    status: CustomerStatus
    email: str | None
    name: str | None
    tags: list[str]
    segments: list[str]
    total_orders: int
    total_spent: int
    currency: str
    created_at: datetime


class CustomerListPage(msgspec.Struct, frozen=True):
    items: list[CustomerListItem]
    next_cursor: CreatedCursor | None


async def search_customers(
    lists: CustomerLists,
    tenant_id: str,
    search: CustomerSearch,
    rules: SegmentRules,
    now: datetime,
) -> CustomerListPage:
    """One page of the tenant's customers matching every criterion given, oldest first."""
    queries, keyring = lists.queries, lists.keyring
    filters = CustomerFilters(
        email_index=None
        if search.email is None
        else await email_index(keyring, tenant_id, _email(search.email)),
        tag_index=None
        if search.tag is None
        else await tag_index(keyring, tenant_id, _tag(search.tag)),
        ids=None
        if search.segment is None
        else await _members(queries, tenant_id, search.segment, rules, now),
    )
    page = await queries.customers(tenant_id, filters, search.limit, search.after)
    ids = [row.customer_id for row in page.rows]
    metrics = {
        m.customer_id: m for m in await queries.customer_metrics(tenant_id, rules.currency, ids)
    }
    keyring = await keyring.holding(ids)  # the page's keys in one round trip
    items = [
        await _item(keyring, row, metrics.get(row.customer_id), rules, now) for row in page.rows
    ]
    return CustomerListPage(items, page.next_cursor)


async def _members(
    queries: ListQueries, tenant_id: str, segment: SegmentName, rules: SegmentRules, now: datetime
) -> frozenset[UUID]:
    buyers = await queries.customer_metrics(tenant_id, rules.currency, None)
    return frozenset(m.customer_id for m in buyers if segment in segments_for(m, rules, now))


def _email(raw: str) -> str:
    try:
        return profile.normalize_email(raw)
    except InvalidValueError:
        raise InvalidValueError("email must be an email address, e.g. ada@example.com") from None


def _tag(raw: str) -> str:
    [tag] = profile.normalize_tags([raw])
    return tag


async def _item(
    keyring: Keyring,
    row: CustomerRow,
    metrics: CustomerMetrics | None,
    rules: SegmentRules,
    now: datetime,
) -> CustomerListItem:
    metrics = metrics or CustomerMetrics(customer_id=row.customer_id, currency=rules.currency)
    erased = row.status == CustomerStatus.ERASED
    return CustomerListItem(
        id=row.customer_id,
        status=CustomerStatus(row.status),
        email=None if erased else await unseal(keyring, _sealed(row.email), "email", str),
        name=None if erased else await unseal(keyring, _sealed(row.name), "name", str),
        tags=[] if erased else await customer_tags(keyring, [_tag_value(t) for t in row.tags]),
        segments=segments_for(metrics, rules, now),
        total_orders=metrics.total_orders,
        total_spent=metrics.total_spent,
        currency=rules.currency,
        created_at=row.created_at,
    )


def _sealed(value: Any) -> Encrypted | None:
    return None if value is None else msgspec.convert(value, Encrypted)


def _tag_value(value: Any) -> Encrypted | str:
    return value if isinstance(value, str) else msgspec.convert(value, Encrypted)
