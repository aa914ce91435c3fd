"""The Customer aggregate: profile, addresses, tags, notes, marketing consent, status.

Personal data arrives sealed (``Encrypted``) and stays sealed in state and
events; plain-text rules are in ``customer_profile``. Tags are sealed too (ADR
0021): a label chosen by staff can say as much about a person as a note. Events
recorded before that hold them as plain strings, which still load. Erasing a
customer clears the sealed values and the tags from state (so later snapshots
hold none) and the application forgets the data key, so the copies in earlier
events can no longer be read.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, event

from commerce_core.shared.errors import DomainError, InvalidTransitionError
from commerce_core.shared.pii import Encrypted, check_sealed_for


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    ERASED = "erased"


Tag = Encrypted | str
"""A tag sealed under the customer's key; a plain string in events recorded before ADR 0021."""


class CustomerErasedError(DomainError):
    """The customer was erased: nothing about them can change any more."""


class CustomerBlockedError(DomainError):
    """A blocked customer cannot do this (change their profile, grant consent, order)."""


class Note(msgspec.Struct, frozen=True, kw_only=True):
    """A staff note about a customer; its text is personal data, its author is staff."""

    number: int
    text: Encrypted | None
    author: str | None
    at: datetime


class MarketingConsent(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the customer agreed to marketing, and when that last changed."""

    granted: bool = False
    at: datetime | None = None


class NotificationConsent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which channels the customer may be told about their orders on (ADR 0038).
    Transactional email is on unless refused; text messages only once agreed to."""

    email: bool = True
    sms: bool = False


class Customer(Aggregate):
    """A customer of one tenant. Commands raise a ``DomainError`` and record nothing
    when refused; an erased customer refuses every command."""

    tenant_id: str
    email: Encrypted | None
    email_index: str | None
    name: Encrypted | None
    phone: Encrypted | None
    addresses: list[Encrypted]
    tags: list[Tag]
    notes: list[Note]
    marketing_consent: MarketingConsent
    consent = NotificationConsent()
    """Not a dataclass field: a class default, so customers recorded (and snapshots
    taken) before ADR 0038 have the default."""
    status: CustomerStatus
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None

    @classmethod
    def register(
        cls,
        customer_id: UUID,
        tenant_id: str,
        email: Encrypted,
        email_index: str,
        at: datetime,
        name: Encrypted | None = None,
        phone: Encrypted | None = None,
        addresses: list[Encrypted] | None = None,
        tags: list[Encrypted] | None = None,
        tag_indexes: list[str] | None = None,
    ) -> Customer:
        """A new active customer; ``email_index`` is the blind index of the email,
        ``tag_indexes`` those of the tags (``customers.tags.tag_index``, ADR 0025)."""
        addresses = addresses or []
        check_sealed_for(customer_id, email, name, phone, *addresses, *(tags or []))
        return cls(
            id=customer_id,
            tenant_id=tenant_id,
            email=email,
            email_index=email_index,
            name=name,
            phone=phone,
            addresses=addresses,
            tags=list[Tag](tags or []),
            at=at,
            tag_indexes=tag_indexes,
        )

    @event("Registered")
    def __init__(  # ``id`` becomes the aggregate's id, not an event field
        self,
        id: UUID,
        tenant_id: str,
        email: Encrypted,
        email_index: str,
        name: Encrypted | None,
        phone: Encrypted | None,
        addresses: list[Encrypted],
        tags: list[Tag],
        at: datetime,
        tag_indexes: list[str] | None = None,  # None in events recorded before ADR 0025
    ) -> None:
        self.tenant_id = tenant_id
        self.email = email
        self.email_index = email_index
        self.name = name
        self.phone = phone
        self.addresses = addresses
        self.tags = tags
        self.notes = []
        self.marketing_consent = MarketingConsent()
        self.status = CustomerStatus.ACTIVE
        self.created_at = at
        self.updated_at = at
        self.erased_at = None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def check_not_erased(self) -> None:
        if self.is_erased:
            raise CustomerErasedError(f"customer {self.id} was erased")

    def check_active(self) -> None:
        """Refuses a blocked (or erased) customer: other aggregates ask before an order."""
        self.check_not_erased()
        if self.status is CustomerStatus.BLOCKED:
            raise CustomerBlockedError(f"customer {self.id} is blocked")

    # Profile: each change is its own event, recorded only for fields that changed.

    def change_email(self, email: Encrypted, email_index: str, at: datetime) -> None:
        self.check_active()
        check_sealed_for(self.id, email)
        self._email_changed(email=email, email_index=email_index, at=at)

    @event("EmailChanged")
    def _email_changed(self, email: Encrypted, email_index: str, at: datetime) -> None:
        self.email = email
        self.email_index = email_index
        self.updated_at = at

    def change_name(self, name: Encrypted | None, at: datetime) -> None:
        self.check_active()
        check_sealed_for(self.id, name)
        self._name_changed(name=name, at=at)

    @event("NameChanged")
    def _name_changed(self, name: Encrypted | None, at: datetime) -> None:
        self.name = name
        self.updated_at = at

    def change_phone(self, phone: Encrypted | None, at: datetime) -> None:
        self.check_active()
        check_sealed_for(self.id, phone)
        self._phone_changed(phone=phone, at=at)

    @event("PhoneChanged")
    def _phone_changed(self, phone: Encrypted | None, at: datetime) -> None:
        self.phone = phone
        self.updated_at = at

    def replace_addresses(self, addresses: list[Encrypted], at: datetime) -> None:
        self.check_active()
        check_sealed_for(self.id, *addresses)
        self._addresses_replaced(addresses=addresses, at=at)

    @event("AddressesReplaced")
    def _addresses_replaced(self, addresses: list[Encrypted], at: datetime) -> None:
        self.addresses = addresses
        self.updated_at = at

    def set_tags(
        self, tags: list[Encrypted], at: datetime, tag_indexes: list[str] | None = None
    ) -> None:
        """Replaces the tags; allowed while blocked (staff segment blocked customers too).

        Sealed values always differ, so the caller records only tags that changed.
        ``tag_indexes`` are the tags' blind indexes, for the customer list (ADR 0025).
        """
        self.check_not_erased()
        check_sealed_for(self.id, *tags)
        self._tags_set(tags=list[Tag](tags), at=at, tag_indexes=tag_indexes)

    @event("TagsSet")
    def _tags_set(
        self, tags: list[Tag], at: datetime, tag_indexes: list[str] | None = None
    ) -> None:
        self.tags = tags
        self.updated_at = at

    def add_note(self, text: Encrypted, author: str | None, at: datetime) -> int:
        """Adds a staff note (allowed while blocked); returns its number."""
        self.check_not_erased()
        check_sealed_for(self.id, text)
        number = len(self.notes) + 1
        self._note_added(number=number, text=text, author=author, at=at)
        return number

    @event("NoteAdded")
    def _note_added(self, number: int, text: Encrypted, author: str | None, at: datetime) -> None:
        self.notes = [*self.notes, Note(number=number, text=text, author=author, at=at)]
        self.updated_at = at

    # Consent: setting it to what it already is records nothing.

    def grant_marketing_consent(self, at: datetime) -> None:
        self.check_active()
        if not self.marketing_consent.granted:
            self._marketing_consent_granted(at=at)

    @event("MarketingConsentGranted")
    def _marketing_consent_granted(self, at: datetime) -> None:
        self.marketing_consent = MarketingConsent(granted=True, at=at)
        self.updated_at = at

    def withdraw_marketing_consent(self, at: datetime) -> None:
        """Always allowed, blocked or not: a person may always say no."""
        self.check_not_erased()
        if self.marketing_consent.granted:
            self._marketing_consent_withdrawn(at=at)

    @event("MarketingConsentWithdrawn")
    def _marketing_consent_withdrawn(self, at: datetime) -> None:
        self.marketing_consent = MarketingConsent(granted=False, at=at)
        self.updated_at = at

    def set_consent(self, consent: NotificationConsent, at: datetime) -> None:
        """Always allowed short of erasure (a person may always say no)."""
        self.check_not_erased()
        if consent != self.consent:
            self._consent_changed(email=consent.email, sms=consent.sms, at=at)

    @event("NotificationConsentChanged")
    def _consent_changed(self, email: bool, sms: bool, at: datetime) -> None:
        self.consent = NotificationConsent(email=email, sms=sms)
        self.updated_at = at

    # Status.

    def block(self, at: datetime) -> None:
        self.check_not_erased()
        if self.status is CustomerStatus.BLOCKED:
            raise InvalidTransitionError("customer", self.status, CustomerStatus.BLOCKED)
        self._blocked(at=at)

    @event("Blocked")
    def _blocked(self, at: datetime) -> None:
        self.status = CustomerStatus.BLOCKED
        self.updated_at = at

    def unblock(self, at: datetime) -> None:
        self.check_not_erased()
        if self.status is CustomerStatus.ACTIVE:
            raise InvalidTransitionError("customer", self.status, CustomerStatus.ACTIVE)
        self._unblocked(at=at)

    @event("Unblocked")
    def _unblocked(self, at: datetime) -> None:
        self.status = CustomerStatus.ACTIVE
        self.updated_at = at

    # Erasure (GDPR art. 17).

    def erase(self, at: datetime, actor: str | None) -> None:
        """Records the erasure; the caller then forgets the customer's data key."""
        self.check_not_erased()
        self._erased(at=at, actor=actor)

    @event("Erased")
    def _erased(self, at: datetime, actor: str | None) -> None:
        # Marketing consent ends with the person; the dates and note authors are
        # not personal data and stay for order history.
        self.email = self.name = self.phone = None
        self.email_index = None
        self.addresses = []
        self.tags = []
        self.status = CustomerStatus.ERASED
        self.notes = [
            Note(number=n.number, text=None, author=n.author, at=n.at) for n in self.notes
        ]
        self.marketing_consent = MarketingConsent(granted=False, at=at)
        self.erased_at = at
        self.updated_at = at
