"""Who places an order: an existing customer by id or email, or one registered with the order.

A customer registered by an order is saved in the **same append** as the order
(the customer and its email claim), so an order refused for lack of stock
leaves no customer behind. Only the data key is created before the append; it
is forgotten again when the order is refused (``discard``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from commerce_core.customers import profile
from commerce_core.customers.customer import Customer
from commerce_core.customers.emails import email_index, load_claim, take_claim
from commerce_core.customers.services import load_customer
from commerce_core.eventstore import Repository
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.ports.keyring import Keyring
from commerce_core.shared.sealing import seal, seal_optional


class CustomerRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``customer`` of ``POST /orders``: an ``id``, or an ``email`` (and ``name`` for a new one).

    With an id the email is ignored. An email the tenant knows (in any letter
    case) names that customer; an unknown one registers a new customer.
    """

    id: UUID | None = None
    email: str | None = None
    name: str | None = None

    def checked(self) -> CustomerRef:
        """The reference with its email and name normalized; ``InvalidValueError`` if unusable."""
        if self.id is not None:
            return self
        if self.email is None:
            raise InvalidValueError("an order needs customer.id or customer.email")
        return CustomerRef(
            email=profile.normalize_email(self.email),
            name=None if self.name is None else profile.check_name(self.name),
        )


@dataclass
class OrderingCustomer:
    """The customer's id, and the aggregates to save with the order if it is new."""

    customer_id: UUID
    new: list[Aggregate] = field(default_factory=list)


class CustomerResolver:
    """Resolves a ``CustomerRef`` once per attempt of placing the order."""

    def __init__(self, repo: Repository, keyring: Keyring, tenant_id: str, new_id: UUID) -> None:
        self._repo = repo
        self._keyring = keyring
        self._tenant_id = tenant_id
        self._new_id = new_id
        self._key_created = False

    async def resolve(self, ref: CustomerRef, at: datetime) -> OrderingCustomer:
        """Refuses a customer who is blocked, erased, or of another tenant (not found)."""
        if ref.id is not None:
            return OrderingCustomer(await self._active(ref.id))
        assert ref.email is not None  # ``CustomerRef.checked`` made sure
        index = await email_index(self._keyring, self._tenant_id, ref.email)
        claim = await load_claim(self._repo, self._tenant_id, index)
        if claim is not None and claim.customer_id is not None:
            return OrderingCustomer(await self._active(claim.customer_id))
        return await self._register(ref, index, at)

    async def _active(self, customer_id: UUID) -> UUID:
        customer = await load_customer(self._repo, self._tenant_id, customer_id)
        customer.check_active()
        return customer.id

    async def _register(self, ref: CustomerRef, index: str, at: datetime) -> OrderingCustomer:
        assert ref.email is not None
        customer_id = self._new_id
        await self._keyring.create_key(customer_id)
        self._key_created = True
        claim = await take_claim(self._repo, self._tenant_id, index, customer_id, at)
        keyring = await self._keyring.holding([customer_id])  # one lookup for every field
        customer = Customer.register(
            customer_id,
            self._tenant_id,
            email=await seal(keyring, customer_id, "email", ref.email),
            email_index=index,
            at=at,
            name=await seal_optional(keyring, customer_id, "name", ref.name),
        )
        return OrderingCustomer(customer_id, [customer, claim])

    async def discard(self, used: UUID | None) -> None:
        """Forgets the new customer's data key unless the saved order uses that customer."""
        if self._key_created and used != self._new_id:
            await self._keyring.forget(self._new_id)
