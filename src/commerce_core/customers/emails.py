"""Customer emails by blind index: uniqueness per tenant and lookup, via ``EmailClaim``.

The index is the keyring's keyed hash of the email's lookup key, so claims
and events never hold the address itself. A claim is saved in the same append
as the customer change that takes or frees it.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from commerce_core.customers import profile
from commerce_core.customers.customer import Customer
from commerce_core.customers.email_claim import EmailClaim, email_claim_id
from commerce_core.eventstore import AggregateNotFoundError, Repository
from commerce_core.shared.ports.keyring import Keyring


async def email_index(keyring: Keyring, tenant_id: str, email: str) -> str:
    """The blind index of ``email`` for ``tenant_id`` (the same for every spelling)."""
    return await keyring.blind_index(tenant_id, profile.email_lookup_key(email))


async def load_claim(repo: Repository, tenant_id: str, index: str) -> EmailClaim | None:
    try:
        return await repo.get(email_claim_id(tenant_id, index), kind=EmailClaim)
    except AggregateNotFoundError:
        return None


async def take_claim(
    repo: Repository, tenant_id: str, index: str, customer_id: UUID, at: datetime
) -> EmailClaim:
    """The claim on ``index`` for ``customer_id``, to save; ``EmailTakenError`` if held."""
    claim = await load_claim(repo, tenant_id, index)
    if claim is None:
        return EmailClaim.claim_new(tenant_id, index, customer_id, at)
    claim.claim(customer_id, at)
    return claim


async def release_claim(repo: Repository, customer: Customer, at: datetime) -> list[EmailClaim]:
    """The customer's current claim released, to save (none if it has no email)."""
    if customer.email_index is None:
        return []
    claim = await load_claim(repo, customer.tenant_id, customer.email_index)
    if claim is None:
        return []
    claim.release(customer.id, at)
    return [claim]


async def find_customer_by_email(
    repo: Repository, keyring: Keyring, tenant_id: str, email: str
) -> UUID | None:
    """The id of the tenant's customer with this email (any letter case), if any."""
    claim = await load_claim(repo, tenant_id, await email_index(keyring, tenant_id, email))
    return None if claim is None else claim.customer_id
