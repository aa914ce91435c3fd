"""Customer: a profile of sealed personal data, tags, notes, consent, blocking, erasure."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.eventstore import MemoryEventStore
from commerce_core.customers.customer import (
    Customer,
    CustomerBlockedError,
    CustomerErasedError,
    CustomerStatus,
    MarketingConsent,
    Note,
)
from commerce_core.eventstore import EventMapper, EventMetadata, Repository
from commerce_core.shared.errors import InvalidTransitionError, InvalidValueError
from commerce_core.shared.pii import Encrypted
from tests.unit.gwt import given

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=3)
ID = uuid.UUID("00000000-0000-0000-0000-00000000c001")
OTHER = uuid.UUID("00000000-0000-0000-0000-00000000c002")


def sealed(label: str, key_id: uuid.UUID = ID) -> Encrypted:
    """A stand-in ciphertext: the domain never opens one, it only keeps it."""
    return Encrypted(key_id, f"sealed-{label}")


def new_customer(**overrides: object) -> Customer:
    fields: dict[str, object] = {
        "email": sealed("email"),
        "email_index": "index-of-ada",
        "at": T0,
        "name": sealed("name"),
        "addresses": [sealed("home")],
        "tags": [sealed("vip")],
    }
    fields.update(overrides)
    return Customer.register(ID, "tenant-1", **fields)  # type: ignore[arg-type]


def blocked() -> Customer:
    customer = new_customer()
    customer.block(T0)
    return customer


def test_registering_records_the_sealed_profile_of_an_active_customer() -> None:
    spec = given(new_customer())

    assert [type(e).__name__ for e in spec.history] == ["Registered"]
    customer = spec.rebuilt()
    assert customer.id == ID
    assert customer.tenant_id == "tenant-1"
    assert customer.email == sealed("email")
    assert customer.email_index == "index-of-ada"
    assert customer.name == sealed("name")
    assert customer.phone is None
    assert customer.addresses == [sealed("home")]
    assert customer.tags == [sealed("vip")]
    assert customer.status is CustomerStatus.ACTIVE
    assert customer.marketing_consent == MarketingConsent(granted=False, at=None)
    assert (customer.created_at, customer.updated_at, customer.erased_at) == (T0, T0, None)


def test_personal_data_sealed_under_another_customers_key_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        new_customer(name=sealed("name", key_id=OTHER))

    spec = given(new_customer())
    spec.when(lambda c: c.replace_addresses([sealed("x", key_id=OTHER)], LATER)).then_error(
        InvalidValueError
    )


@pytest.mark.parametrize(
    ("command", "event", "attribute", "value"),
    [
        (lambda c: c.change_email(sealed("new"), "index-2", LATER), "EmailChanged", "email",
         sealed("new")),
        (lambda c: c.change_name(None, LATER), "NameChanged", "name", None),
        (lambda c: c.change_phone(sealed("phone"), LATER), "PhoneChanged", "phone",
         sealed("phone")),
        (lambda c: c.replace_addresses([], LATER), "AddressesReplaced", "addresses", []),
        (lambda c: c.set_tags([sealed("wholesale")], LATER), "TagsSet", "tags",
         [sealed("wholesale")]),
    ],
)  # fmt: skip
def test_each_profile_change_records_its_own_event(
    command: Callable[[Customer], None], event: str, attribute: str, value: object
) -> None:
    spec = given(new_customer())

    spec.when(command).then(event)

    rebuilt = spec.rebuilt()
    assert getattr(rebuilt, attribute) == value
    assert rebuilt.updated_at == LATER


def test_changing_the_email_changes_its_blind_index() -> None:
    spec = given(new_customer())

    [payload] = spec.when(lambda c: c.change_email(sealed("new"), "index-2", LATER)).then(
        "EmailChanged"
    )

    assert payload == {"email": sealed("new"), "email_index": "index-2", "at": LATER}


def test_tags_are_personal_data_sealed_under_the_customers_key() -> None:
    with pytest.raises(InvalidValueError):
        new_customer(tags=["vip"])
    with pytest.raises(InvalidValueError):
        new_customer(tags=[sealed("vip", key_id=OTHER)])

    spec = given(new_customer())
    spec.when(lambda c: c.set_tags([sealed("x", key_id=OTHER)], LATER)).then_error(
        InvalidValueError
    )


def test_tags_in_the_plain_text_of_older_events_still_load() -> None:
    customer = new_customer()
    spec = given(customer)
    [registered] = spec.history
    registered.__dict__["tags"] = ["vip"]  # as recorded before tags were sealed

    assert spec.rebuilt().tags == ["vip"]


def test_notes_are_numbered_and_keep_their_author() -> None:
    spec = given(new_customer(), lambda c: c.add_note(sealed("n1"), "staff-1", T0))

    spec.when(lambda c: c.add_note(sealed("n2"), None, LATER)).then("NoteAdded")

    assert spec.rebuilt().notes == [
        Note(number=1, text=sealed("n1"), author="staff-1", at=T0),
        Note(number=2, text=sealed("n2"), author=None, at=LATER),
    ]


def test_consent_is_granted_then_withdrawn_with_the_time_of_each() -> None:
    spec = given(new_customer())

    spec.when(lambda c: c.grant_marketing_consent(T0)).then("MarketingConsentGranted")
    assert spec.rebuilt().marketing_consent == MarketingConsent(granted=True, at=T0)
    spec.when(lambda c: c.withdraw_marketing_consent(LATER)).then("MarketingConsentWithdrawn")
    assert spec.rebuilt().marketing_consent == MarketingConsent(granted=False, at=LATER)


def test_setting_consent_to_what_it_is_records_nothing() -> None:
    spec = given(new_customer(), lambda c: c.grant_marketing_consent(T0))

    spec.when(lambda c: c.grant_marketing_consent(LATER)).then()
    given(new_customer()).when(lambda c: c.withdraw_marketing_consent(LATER)).then()


def test_blocking_and_unblocking_move_the_status() -> None:
    spec = given(new_customer())

    spec.when(lambda c: c.block(T0)).then("Blocked")
    assert spec.rebuilt().status is CustomerStatus.BLOCKED
    spec.when(lambda c: c.unblock(LATER)).then("Unblocked")
    assert spec.rebuilt().status is CustomerStatus.ACTIVE


def test_blocking_a_blocked_or_unblocking_an_active_customer_is_refused() -> None:
    given(blocked()).when(lambda c: c.block(LATER)).then_error(InvalidTransitionError)
    given(new_customer()).when(lambda c: c.unblock(LATER)).then_error(InvalidTransitionError)


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.change_email(sealed("new"), "index-2", LATER),
        lambda c: c.change_name(sealed("new"), LATER),
        lambda c: c.change_phone(None, LATER),
        lambda c: c.replace_addresses([], LATER),
        lambda c: c.grant_marketing_consent(LATER),
        lambda c: c.check_active(),
    ],
)
def test_a_blocked_customer_cannot_change_their_profile_or_opt_in(
    command: Callable[[Customer], None],
) -> None:
    given(blocked()).when(command).then_error(CustomerBlockedError)


def test_staff_can_still_note_tag_and_opt_out_a_blocked_customer() -> None:
    spec = given(blocked())

    spec.when(lambda c: c.add_note(sealed("why"), "staff-1", LATER)).then("NoteAdded")
    spec.when(lambda c: c.set_tags([sealed("fraud-review")], LATER)).then("TagsSet")


def test_a_blocked_customer_may_withdraw_consent() -> None:
    customer = new_customer()
    customer.grant_marketing_consent(T0)
    customer.block(T0)

    given(customer).when(lambda c: c.withdraw_marketing_consent(LATER)).then(
        "MarketingConsentWithdrawn"
    )


def test_erasing_clears_personal_data_and_keeps_the_facts() -> None:
    spec = given(
        new_customer(phone=sealed("phone")),
        lambda c: c.add_note(sealed("note"), "staff-1", T0),
        lambda c: c.grant_marketing_consent(T0),
        lambda c: c.block(T0),
    )

    [payload] = spec.when(lambda c: c.erase(LATER, "dpo-1")).then("Erased")

    assert payload == {"at": LATER, "actor": "dpo-1"}
    customer = spec.rebuilt()
    assert (customer.email, customer.email_index, customer.name, customer.phone) == (
        None,
        None,
        None,
        None,
    )
    assert customer.addresses == []
    assert customer.notes == [Note(number=1, text=None, author="staff-1", at=T0)]
    assert customer.marketing_consent == MarketingConsent(granted=False, at=LATER)
    assert customer.is_erased
    assert customer.erased_at == LATER
    assert (customer.id, customer.tenant_id, customer.created_at) == (ID, "tenant-1", T0)
    assert customer.status is CustomerStatus.ERASED
    assert customer.tags == []


@pytest.mark.parametrize(
    "command",
    [
        lambda c: c.change_email(sealed("new"), "index-2", LATER),
        lambda c: c.change_name(None, LATER),
        lambda c: c.change_phone(None, LATER),
        lambda c: c.replace_addresses([], LATER),
        lambda c: c.set_tags([], LATER),
        lambda c: c.add_note(sealed("n"), "staff-1", LATER),
        lambda c: c.grant_marketing_consent(LATER),
        lambda c: c.withdraw_marketing_consent(LATER),
        lambda c: c.block(LATER),
        lambda c: c.unblock(LATER),
        lambda c: c.erase(LATER, "dpo-1"),
        lambda c: c.check_active(),
    ],
)
def test_an_erased_customer_refuses_every_command(command: Callable[[Customer], None]) -> None:
    customer = new_customer()
    customer.erase(T0, "dpo-1")

    given(customer).when(command).then_error(CustomerErasedError)


async def test_a_customer_saves_loads_and_snapshots_through_the_repository() -> None:
    repo = Repository(MemoryEventStore(), snapshot_every=2)
    customer = new_customer(phone=sealed("phone"))
    customer.add_note(sealed("note"), "staff-1", T0)
    customer.grant_marketing_consent(T0)
    customer.block(LATER)
    await repo.save(customer, metadata=EventMetadata(tenant_id="tenant-1"))

    snapshot = await repo.store.load_snapshot(ID)
    assert snapshot is not None
    from_snapshot = EventMapper().from_snapshot(snapshot)
    loaded = await repo.get(ID, kind=Customer)

    for restored in (loaded, from_snapshot):
        assert isinstance(restored, Customer)
        assert vars(restored) | {"_pending_events": []} == vars(customer) | {"_pending_events": []}
        assert restored.status is CustomerStatus.BLOCKED
        assert isinstance(restored.notes[0], Note)
        assert isinstance(restored.marketing_consent, MarketingConsent)
