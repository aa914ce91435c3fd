"""Reaching customers: their opened profiles, read when they are needed (never copied)."""

from __future__ import annotations

from collections.abc import Collection

from commerce_core.customers.customer import Customer
from commerce_core.customers.views import customer_view
from commerce_core.eventstore import Repository
from commerce_core.notifications.ports import Contact, CustomerKey
from commerce_core.shared.ports.keyring import Keyring


class CustomerContacts:
    def __init__(self, repo: Repository, keyring: Keyring) -> None:
        self._repo = repo
        self._keyring = keyring

    async def of(self, customers: Collection[CustomerKey]) -> dict[CustomerKey, Contact]:
        """One read of the customers and one of their data keys, however many."""
        found = await self._repo.get_many(list({c for _, c in customers}), kind=Customer)
        keyring = await self._keyring.holding(found)
        contacts = {}
        for tenant, customer_id in customers:
            customer = found.get(customer_id)
            if customer is None or customer.tenant_id != tenant:
                continue
            view = await customer_view(keyring, customer)
            if not view.erased:
                contacts[tenant, customer_id] = Contact(
                    name=view.name,
                    email=view.email,
                    phone=view.phone,
                    email_consent=view.consent.email,
                    sms_consent=view.consent.sms,
                )
        return contacts
