"""What reading a customer returns: personal data opened, or ``None`` once erased."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from commerce_core.customers.customer import (
    Customer,
    CustomerStatus,
    MarketingConsent,
    NotificationConsent,
    Tag,
)
from commerce_core.eventstore import Repository
from commerce_core.shared.pii import Encrypted
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.shared.sealing import unseal, unseal_all, unseal_tree
from commerce_core.shared.values import Address

_ENVELOPE = {"originator_id", "originator_version", "originator_topic", "timestamp"}


class NoteView(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    text: str | None
    author: str | None
    at: datetime


class CustomerView(msgspec.Struct, frozen=True, kw_only=True):
    """A customer as staff and the customer see it. Once erased, ``status`` is
    ``"erased"``, personal fields are ``None`` and lists empty; ids and dates stay for
    order history."""

    id: UUID
    tenant_id: str
    status: CustomerStatus
    email: str | None
    name: str | None
    phone: str | None
    addresses: list[Address]
    tags: list[str]
    notes: list[NoteView]
    marketing_consent: MarketingConsent
    consent: NotificationConsent
    """Order notifications per channel (ADR 0038)."""
    created_at: datetime
    updated_at: datetime
    erased: bool
    erased_at: datetime | None


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One event of the customer's stream, with its personal data opened."""

    version: int
    type: str
    recorded_at: datetime
    actor: str | None
    data: dict[str, Any]


class OrderAddresses(msgspec.Struct, frozen=True, kw_only=True):
    """The addresses one of the customer's orders was placed with, opened."""

    order_id: UUID
    number: str
    shipping_address: Address | None
    billing_address: Address | None


class CustomerExport(msgspec.Struct, frozen=True, kw_only=True):
    """Everything held about a customer (GDPR art. 15 and 20): the current view,
    every recorded change (earlier emails, names and addresses included), and the
    addresses of their orders."""

    customer: CustomerView
    history: list[HistoryEntry]
    orders: list[OrderAddresses] = []


async def customer_view(keyring: Keyring, customer: Customer) -> CustomerView:
    keyring = await keyring.holding([customer.id])  # every field under one key: fetch it once
    notes = [
        NoteView(
            number=n.number,
            text=await unseal(keyring, n.text, "text", str),
            author=n.author,
            at=n.at,
        )
        for n in customer.notes
    ]
    # state recorded before ADR 0021 still says active (or blocked) and keeps plain tags
    erased = customer.is_erased
    status = CustomerStatus.ERASED if erased else customer.status
    return CustomerView(
        id=customer.id,
        tenant_id=customer.tenant_id,
        status=status,
        email=await unseal(keyring, customer.email, "email", str),
        name=await unseal(keyring, customer.name, "name", str),
        phone=await unseal(keyring, customer.phone, "phone", str),
        addresses=await unseal_all(keyring, customer.addresses, "addresses", Address),
        tags=[] if erased else await customer_tags(keyring, customer.tags),
        notes=notes,
        marketing_consent=customer.marketing_consent,
        consent=customer.consent,
        created_at=customer.created_at,
        updated_at=customer.updated_at,
        erased=erased,
        erased_at=customer.erased_at,
    )


async def customer_tags(keyring: Keyring, tags: list[Tag]) -> list[str]:
    """The tags opened (plain in events recorded before they were sealed)."""
    opened = [
        await unseal(keyring, tag, "tags", str) if isinstance(tag, Encrypted) else tag
        for tag in tags
    ]
    return [tag for tag in opened if tag is not None]


async def customer_history(
    repo: Repository, keyring: Keyring, customer_id: UUID
) -> list[HistoryEntry]:
    """The customer's events in order, each with its sealed fields opened."""
    keyring = await keyring.holding([customer_id])
    history = []
    for recorded in await repo.store.read_stream(customer_id):
        domain_event = repo.mapper.from_recorded(recorded)
        fields = {k: v for k, v in vars(domain_event).items() if k not in _ENVELOPE}
        history.append(
            HistoryEntry(
                version=recorded.version,
                type=type(domain_event).__name__,
                recorded_at=recorded.recorded_at,
                actor=recorded.metadata.actor,
                data=await unseal_tree(keyring, fields),
            )
        )
    return history
