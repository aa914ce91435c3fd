"""A marketplace seller and its connected account at the payment gateway (Stripe Connect).

A tenant that runs a marketplace onboards each seller once: the gateway opens an account
for the seller, the seller finishes onboarding on the gateway's pages, and the gateway
tells us (``account.updated``) whether the account may take charges and receive payouts.
Payments for a seller go to that account, less the platform's fee.

The seller's id is the marketplace's own (``seller_id``); the stream's id derives from
(tenant, seller id), so a seller is found with one load and no read model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from commerce_core.shared.errors import DomainError, InvalidValueError
from commerce_core.shared.values import COUNTRY_CODES

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/sellers")
_SELLER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def check_seller_id(seller_id: str) -> str:
    """A seller id is 1-128 letters, digits, ``.``, ``_``, ``:`` or ``-``, starting alphanumeric."""
    if not _SELLER_ID.fullmatch(seller_id):
        raise InvalidValueError(
            "a seller id is 1-128 letters, digits, '.', '_', ':' or '-', starting with a"
            " letter or digit"
        )
    return seller_id


def check_country(country: str) -> str:
    """The seller's country as an upper-case ISO 3166-1 alpha-2 code."""
    code = country.upper()
    if code not in COUNTRY_CODES:
        raise InvalidValueError(
            f"{country!r} is not an ISO 3166-1 alpha-2 country code (e.g. 'GB')"
        )
    return code


class SellerNotFoundError(DomainError, LookupError):
    """The tenant has no seller of this id (or has not onboarded it yet)."""

    def __init__(self, seller_id: str) -> None:
        super().__init__(f"no seller {seller_id!r}")
        self.seller_id = seller_id


class Seller(Aggregate):
    """One seller of one tenant, with its gateway account and what the gateway allows it.

    ``charges_enabled``: payments may be sent to the account. ``payouts_enabled``: the
    gateway pays the seller's balance out to their bank. ``details_submitted``: the
    seller finished onboarding; ``requirements_due``: what the gateway still needs from
    the seller (e.g. ``external_account``). ``state_as_of`` and ``state_event_id`` name
    the gateway event the flags come from, so events arriving late or twice change nothing.
    """

    tenant_id: str
    seller_id: str
    gateway: str
    account_id: str
    country: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    requirements_due: tuple[str, ...]
    state_as_of: datetime | None
    state_event_id: str | None
    opened_at: datetime
    updated_at: datetime

    @staticmethod
    def id_for(tenant_id: str, seller_id: str) -> UUID:
        return uuid5(_NAMESPACE, f"{tenant_id}\x00{seller_id}")

    @classmethod
    def open(
        cls,
        tenant_id: str,
        seller_id: str,
        gateway: str,
        account_id: str,
        country: str,
        at: datetime,
        requirements_due: Sequence[str] = (),
    ) -> Seller:
        """Records the account the gateway opened for the seller, and what the gateway
        said it needs from the seller then (any later word of the gateway replaces it)."""
        check_seller_id(seller_id)
        if not account_id:
            raise InvalidValueError("a seller's account needs the gateway's account id")
        return cls(
            id=cls.id_for(tenant_id, seller_id),
            tenant_id=tenant_id,
            seller_id=seller_id,
            gateway=gateway,
            account_id=account_id,
            country=check_country(country),
            at=at,
            requirements_due=tuple(requirements_due),
        )

    @event("AccountOpened")
    def __init__(
        self,
        id: UUID,
        tenant_id: str,
        seller_id: str,
        gateway: str,
        account_id: str,
        country: str,
        at: datetime,
        requirements_due: tuple[str, ...] = (),
    ) -> None:
        self.tenant_id = tenant_id
        self.seller_id = seller_id
        self.gateway = gateway
        self.account_id = account_id
        self.country = country
        self.charges_enabled = False
        self.payouts_enabled = False
        self.details_submitted = False
        self.requirements_due = requirements_due
        self.state_as_of = None
        self.state_event_id = None
        self.opened_at = at
        self.updated_at = at

    def record_account_state(
        self,
        charges_enabled: bool,
        payouts_enabled: bool,
        details_submitted: bool,
        as_of: datetime,
        event_id: str,
        at: datetime,
        requirements_due: Sequence[str] = (),
    ) -> bool:
        """Keeps the gateway's state of the account unless one at least as new is known.

        Newer means a later ``as_of``, then a greater ``event_id`` (by code point), so the
        same events in any order, any number of times, end in the same state. Returns
        whether the state was recorded.
        """
        known = self.state_as_of, self.state_event_id
        if known[0] is not None and known[1] is not None and (as_of, event_id) <= known:
            return False
        self._account_updated(
            charges_enabled,
            payouts_enabled,
            details_submitted,
            as_of,
            event_id,
            at,
            tuple(requirements_due),
        )
        return True

    @event("AccountUpdated")
    def _account_updated(
        self,
        charges_enabled: bool,
        payouts_enabled: bool,
        details_submitted: bool,
        as_of: datetime,
        event_id: str,
        at: datetime,
        requirements_due: tuple[str, ...] = (),
    ) -> None:
        self.charges_enabled = charges_enabled
        self.payouts_enabled = payouts_enabled
        self.details_submitted = details_submitted
        self.requirements_due = requirements_due
        self.state_as_of = as_of
        self.state_event_id = event_id
        self.updated_at = at
