"""Customer use cases: one async function each, taking the ports it needs
(``CustomerServices`` for those that open or seal personal data).

Plain-text values are checked (``customer_profile``), sealed through the
``Keyring`` and only then given to the ``Customer`` aggregate, so no event ever
holds personal data in plain text. Emails are unique per tenant through
``EmailClaim`` streams (``customer_emails``) saved in the same append as the
customer. A customer of another tenant is reported as not found.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from commerce_core.customers import profile
from commerce_core.customers.customer import Customer, CustomerErasedError, NotificationConsent
from commerce_core.customers.email_claim import EmailClaim, EmailTakenError
from commerce_core.customers.emails import email_index, load_claim, release_claim, take_claim
from commerce_core.customers.tags import tag_index
from commerce_core.customers.views import (
    CustomerExport,
    CustomerView,
    customer_history,
    customer_view,
)
from commerce_core.eventstore import AggregateNotFoundError, ConcurrencyError, Repository
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import DomainError
from commerce_core.shared.ports.clock import Clock, Ids
from commerce_core.shared.ports.keyring import Keyring, MissingKeyError
from commerce_core.shared.sealing import seal, seal_optional
from commerce_core.shared.values import Address

_REGISTER_ATTEMPTS = 3


@dataclass(frozen=True, kw_only=True)
class CustomerServices:
    """The ports of the customer use cases that seal or open personal data."""

    repo: Repository
    keyring: Keyring
    clock: Clock
    ids: Ids


class RegisterCustomer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST /customers``."""

    email: str
    name: str | None = None
    phone: str | None = None
    addresses: list[Address] = []
    tags: list[str] = []
    consent: NotificationConsent = msgspec.field(default_factory=NotificationConsent)


class CustomerPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``PATCH /customers/{id}``: a field left out is unchanged; ``null`` clears name or
    phone; ``addresses`` and ``tags`` replace the whole list."""

    email: str | UnsetType = UNSET
    name: str | UnsetType | None = UNSET
    phone: str | UnsetType | None = UNSET
    addresses: list[Address] | UnsetType = UNSET
    tags: list[str] | UnsetType = UNSET
    consent: NotificationConsent | UnsetType = UNSET


async def load_customer(repo: Repository, tenant_id: str, customer_id: UUID) -> Customer:
    """The customer, if it belongs to ``tenant_id``; otherwise ``AggregateNotFoundError``."""
    customer = await repo.get(customer_id, kind=Customer)
    if customer.tenant_id != tenant_id:
        raise AggregateNotFoundError(customer_id, Customer)
    return customer


async def register_customer(
    services: CustomerServices, ctx: CommandContext, command: RegisterCustomer
) -> CustomerView:
    """Registers a customer with a new data key; refuses an email the tenant already has."""
    repo, keyring, clock = services.repo, services.keyring, services.clock
    email = profile.normalize_email(command.email)
    name = None if command.name is None else profile.check_name(command.name)
    phone = None if command.phone is None else profile.check_phone(command.phone)
    addresses = profile.check_addresses(command.addresses)
    tags = profile.normalize_tags(command.tags)
    index = await email_index(keyring, ctx.tenant_id, email)
    held = await load_claim(repo, ctx.tenant_id, index)
    if held is not None and held.customer_id is not None:
        raise EmailTakenError("another customer already has this email")
    customer_id = services.ids.new_id()
    await keyring.create_key(customer_id)
    keyring = await keyring.holding([customer_id])  # every field sealed under it
    try:
        for attempt in range(1, _REGISTER_ATTEMPTS + 1):
            at = clock.now()
            claim = await take_claim(repo, ctx.tenant_id, index, customer_id, at)
            customer = Customer.register(
                customer_id,
                ctx.tenant_id,
                email=await seal(keyring, customer_id, "email", email),
                email_index=index,
                at=at,
                name=await seal_optional(keyring, customer_id, "name", name),
                phone=await seal_optional(keyring, customer_id, "phone", phone),
                addresses=[await seal(keyring, customer_id, "addresses", a) for a in addresses],
                tags=[await seal(keyring, customer_id, "tags", t) for t in tags],
                tag_indexes=[await tag_index(keyring, ctx.tenant_id, t) for t in tags],
            )
            customer.set_consent(command.consent, at)
            try:
                await repo.save(customer, claim, metadata=ctx.metadata())
                break
            except ConcurrencyError:
                # The claim changed under us (taken or freed): look at it again.
                if attempt == _REGISTER_ATTEMPTS:
                    raise
    except (DomainError, ConcurrencyError):
        # Refused, so no customer holds this key. (After an unknown failure the
        # append may have happened: the key stays, at worst unused.)
        await keyring.forget(customer_id)
        raise
    return await customer_view(keyring, customer)


async def update_customer(
    services: CustomerServices, ctx: CommandContext, customer_id: UUID, patch: CustomerPatch
) -> CustomerView:
    """Changes the fields the patch sets, recording an event only for those that differ.

    Every value is checked before anything changes, so a refused patch records nothing.
    """
    with _erased_meanwhile(customer_id):
        return await _update_customer(services, ctx, customer_id, patch)


@contextmanager
def _erased_meanwhile(customer_id: UUID) -> Iterator[None]:
    """An erasure between loading the customer and sealing a value shreds the key the value
    needs: the command is refused as it would be a moment later."""
    try:
        yield
    except MissingKeyError:
        raise CustomerErasedError(f"customer {customer_id} was erased") from None


async def _update_customer(
    services: CustomerServices, ctx: CommandContext, customer_id: UUID, patch: CustomerPatch
) -> CustomerView:
    repo, keyring = services.repo, services.keyring
    email = (
        patch.email if isinstance(patch.email, UnsetType) else profile.normalize_email(patch.email)
    )
    name = profile.check_name(patch.name) if isinstance(patch.name, str) else patch.name
    phone = profile.check_phone(patch.phone) if isinstance(patch.phone, str) else patch.phone
    addresses = patch.addresses
    if not isinstance(addresses, UnsetType):
        addresses = profile.check_addresses(addresses)
    tags = patch.tags if isinstance(patch.tags, UnsetType) else profile.normalize_tags(patch.tags)

    customer = await load_customer(repo, ctx.tenant_id, customer_id)
    customer.check_not_erased()
    keyring = await keyring.holding([customer_id])  # opened and sealed under it: fetch once
    current = await customer_view(keyring, customer)
    at = services.clock.now()
    claims: list[EmailClaim] = []
    if not isinstance(email, UnsetType) and email != current.email:
        customer.check_active()  # refuse before touching any claim
        index = await email_index(keyring, ctx.tenant_id, email)
        if index != customer.email_index:
            claims.append(await take_claim(repo, ctx.tenant_id, index, customer_id, at))
            claims.extend(await release_claim(repo, customer, at))
        customer.change_email(await seal(keyring, customer_id, "email", email), index, at)
    if not isinstance(name, UnsetType) and name != current.name:
        customer.change_name(await seal_optional(keyring, customer_id, "name", name), at)
    if not isinstance(phone, UnsetType) and phone != current.phone:
        customer.change_phone(await seal_optional(keyring, customer_id, "phone", phone), at)
    if not isinstance(addresses, UnsetType) and addresses != current.addresses:
        sealed = [await seal(keyring, customer_id, "addresses", a) for a in addresses]
        customer.replace_addresses(sealed, at)
    if not isinstance(tags, UnsetType) and tags != current.tags:
        customer.set_tags(
            [await seal(keyring, customer_id, "tags", t) for t in tags],
            at,
            tag_indexes=[await tag_index(keyring, ctx.tenant_id, t) for t in tags],
        )
    if not isinstance(patch.consent, UnsetType):
        customer.set_consent(patch.consent, at)
    await _save(repo, ctx, customer, *claims)
    return await customer_view(keyring, customer)


async def add_customer_note(
    services: CustomerServices, ctx: CommandContext, customer_id: UUID, text: str
) -> int:
    """Adds a note written by ``ctx.actor``; returns the note's number."""
    text = profile.check_note_text(text)
    customer = await load_customer(services.repo, ctx.tenant_id, customer_id)
    customer.check_not_erased()
    with _erased_meanwhile(customer_id):
        sealed = await seal(services.keyring, customer_id, "text", text)
    number = customer.add_note(sealed, ctx.actor, services.clock.now())
    await _save(services.repo, ctx, customer)
    return number


async def set_marketing_consent(
    repo: Repository, clock: Clock, ctx: CommandContext, customer_id: UUID, granted: bool
) -> None:
    """Grants or withdraws marketing consent; setting it to its current value records nothing."""
    customer = await load_customer(repo, ctx.tenant_id, customer_id)
    if granted:
        customer.grant_marketing_consent(clock.now())
    else:
        customer.withdraw_marketing_consent(clock.now())
    await _save(repo, ctx, customer)


async def block_customer(
    repo: Repository, clock: Clock, ctx: CommandContext, customer_id: UUID
) -> None:
    customer = await load_customer(repo, ctx.tenant_id, customer_id)
    customer.block(clock.now())
    await _save(repo, ctx, customer)


async def unblock_customer(
    repo: Repository, clock: Clock, ctx: CommandContext, customer_id: UUID
) -> None:
    customer = await load_customer(repo, ctx.tenant_id, customer_id)
    customer.unblock(clock.now())
    await _save(repo, ctx, customer)


async def erase_customer(
    services: CustomerServices, ctx: CommandContext, customer_id: UUID
) -> None:
    """Records the erasure, frees the email, then forgets the data key (crypto-shredding).

    Erasing an erased customer forgets the key again and succeeds, so a retry
    completes an erasure whose process stopped between the two steps.
    """
    repo = services.repo
    customer = await load_customer(repo, ctx.tenant_id, customer_id)
    if not customer.is_erased:
        at = services.clock.now()
        claims = await release_claim(repo, customer, at)
        customer.erase(at, ctx.actor)
        await _save(repo, ctx, customer, *claims)
    await services.keyring.forget(customer_id)


async def get_customer(
    repo: Repository, keyring: Keyring, tenant_id: str, customer_id: UUID
) -> CustomerView:
    return await customer_view(keyring, await load_customer(repo, tenant_id, customer_id))


async def export_customer(
    repo: Repository, keyring: Keyring, tenant_id: str, customer_id: UUID
) -> CustomerExport:
    """Everything held about the customer, opened (GDPR access and portability)."""
    customer = await load_customer(repo, tenant_id, customer_id)
    return CustomerExport(
        customer=await customer_view(keyring, customer),
        history=await customer_history(repo, keyring, customer_id),
    )


async def _save(
    repo: Repository, ctx: CommandContext, customer: Customer, *claims: EmailClaim
) -> None:
    await repo.save(customer, *claims, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
