"""Reaching a customer: their opened profile, read when it is needed (never copied)."""

from __future__ import annotations

from uuid import UUID

from commerce_core.customers.services import get_customer
from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.notifications.ports import Contact
from commerce_core.shared.ports.keyring import Keyring


class CustomerContacts:
    def __init__(self, repo: Repository, keyring: Keyring) -> None:
        self._repo = repo
        self._keyring = keyring

    async def of(self, tenant: str, customer_id: UUID) -> Contact | None:
        try:
            view = await get_customer(self._repo, self._keyring, tenant, customer_id)
        except AggregateNotFoundError:
            return None
        if view.erased:
            return None
        return Contact(
            name=view.name,
            email=view.email,
            phone=view.phone,
            email_consent=view.consent.email,
            sms_consent=view.consent.sms,
        )
