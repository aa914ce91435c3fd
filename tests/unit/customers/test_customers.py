"""Customer use cases on the memory event store and a memory keyring (real AES-GCM)."""

from __future__ import annotations

import asyncio
import base64
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from msgspec import UNSET

from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.keyring import MemoryKeyring
from commerce_core.customers import services as app
from commerce_core.customers.customer import (
    Customer,
    CustomerBlockedError,
    CustomerErasedError,
    CustomerStatus,
)
from commerce_core.customers.email_claim import EmailTakenError
from commerce_core.customers.emails import find_customer_by_email
from commerce_core.customers.services import CustomerPatch, CustomerServices, RegisterCustomer
from commerce_core.customers.views import CustomerView, customer_view
from commerce_core.eventstore import START, AggregateNotFoundError, RecordedEvent, Repository
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.ports.keyring import ERASED
from commerce_core.shared.values import Address
from tests.privacy import in_the_clear, sealed_values
from tests.unit.notifications.test_contacts import CountingKeyStore

HOME = Address(
    name="Ada Lovelace", line1="12 St James Sq", city="London", postal_code="SW1Y 4JH", country="GB"
)
WORK = Address(name="Ada Lovelace", line1="1 Analytical Way", city="Leeds", postal_code="LS1",
               country="GB")  # fmt: skip
ADA = RegisterCustomer(
    email="Ada@Example.com",
    name="Ada Lovelace",
    phone="+44 20 7946 0958",
    addresses=[HOME],
    tags=["VIP"],
)
STAFF = CommandContext(tenant_id="t1", actor="staff-1")
OTHER_TENANT = CommandContext(tenant_id="t2", actor="staff-9")


@dataclass
class World:
    store: MemoryEventStore
    repo: Repository
    keyring: MemoryKeyring
    clock: FixedClock

    @property
    def services(self) -> CustomerServices:
        return CustomerServices(
            repo=self.repo, keyring=self.keyring, clock=self.clock, ids=RandomIds()
        )

    async def register(
        self, command: RegisterCustomer = ADA, ctx: CommandContext = STAFF
    ) -> CustomerView:
        return await app.register_customer(self.services, ctx, command)

    async def update(self, customer_id: uuid.UUID, **fields: object) -> CustomerView:
        patch = CustomerPatch(**fields)  # type: ignore[arg-type]
        return await app.update_customer(self.services, STAFF, customer_id, patch)

    async def get(self, customer_id: uuid.UUID, tenant_id: str = "t1") -> CustomerView:
        return await app.get_customer(self.repo, self.keyring, tenant_id, customer_id)

    async def erase(self, customer_id: uuid.UUID) -> None:
        await app.erase_customer(self.services, STAFF, customer_id)

    async def event_types(self, customer_id: uuid.UUID) -> list[str]:
        return [r.type.rsplit(".", 1)[-1] for r in await self.store.read_stream(customer_id)]

    async def all_bytes(self) -> tuple[str, bytes]:
        """Every stored event and snapshot with what is random by design blanked out, and
        every ciphertext in them base64-decoded (see ``tests.privacy``)."""
        events = b"".join(r.data for r in await self.store.read_all(START))
        snapshots = b"".join(s.data for ss in self.store._snapshots.values() for s in ss)
        stored = (events + snapshots).decode()
        sealed = sealed_values(stored)
        assert sealed, "the stored data holds sealed values"
        return in_the_clear(stored), sealed


class InterleavingEventStore(MemoryEventStore):
    """Lets other tasks run between a read and the next append, as a database does."""

    async def read_stream(
        self, stream_id: uuid.UUID, from_version: int = 1, to_version: int | None = None
    ) -> list[RecordedEvent]:
        events = await super().read_stream(stream_id, from_version, to_version)
        await asyncio.sleep(0)  # others run while this answer is in flight
        return events


@pytest.fixture
def world() -> World:
    store = InterleavingEventStore()
    return World(store, Repository(store, snapshot_every=3), MemoryKeyring(), FixedClock())


async def test_registering_returns_the_customer_with_their_profile(world: World) -> None:
    view = await world.register()

    assert view.tenant_id == "t1"
    assert view.status == "active"
    assert (view.email, view.name, view.phone) == (
        "Ada@example.com",
        "Ada Lovelace",
        "+44 20 7946 0958",
    )
    assert view.addresses == [HOME]
    assert view.tags == ["vip"]
    assert view.created_at == world.clock.now()
    assert not view.erased
    assert await world.get(view.id) == view
    assert view.id in world.keyring.store.keys


async def test_no_personal_data_is_stored_in_plain_text(world: World) -> None:
    view = await world.register()
    await world.update(view.id, name="Augusta Ada King", addresses=[HOME, WORK])
    await world.update(view.id, email="countess@lovelace.example")
    await app.add_customer_note(world.services, STAFF, view.id, "Prefers calls after 6pm")
    await world.update(view.id, tags=["late-payer"])

    stored, sealed = await world.all_bytes()

    assert world.store._snapshots, "the test covers snapshots too"
    for secret in ("Ada", "ada@example", "Lovelace", "Augusta", "7946", "7946 0958", "St James",
                   "Analytical", "London", "SW1Y", "countess", "after 6pm",
                   "late-payer"):  # fmt: skip
        assert secret not in stored, secret
        assert secret.lower() not in stored.lower(), secret
        # Sealed values are random bytes, where 3 or 4 given bytes turn up by chance (a
        # secret of 6 or more, about once in 10^9 runs); readable through a broken seal,
        # each value would show one of the longer secrets.
        if len(secret) >= 6:
            assert secret.encode() not in sealed, secret
            assert secret.lower().encode() not in sealed.lower(), secret
    assert "staff-1" in stored  # the note's author is staff, not personal data


async def test_an_invalid_email_is_refused_and_nothing_is_kept(world: World) -> None:
    with pytest.raises(InvalidValueError):
        await world.register(RegisterCustomer(email="not-an-email"))

    assert await world.store.read_all(START) == []
    assert world.keyring.store.keys == {}


async def test_an_email_is_unique_per_tenant_in_any_letter_case(world: World) -> None:
    ada = await world.register()

    with pytest.raises(EmailTakenError):
        await world.register(RegisterCustomer(email="ADA@example.COM"))
    elsewhere = await world.register(RegisterCustomer(email="ada@example.com"), OTHER_TENANT)

    assert list(world.keyring.store.keys) == [ada.id, elsewhere.id]


async def test_concurrent_registrations_of_one_email_let_one_through(world: World) -> None:
    results = await asyncio.gather(
        *(world.register(RegisterCustomer(email="race@example.com")) for _ in range(3)),
        return_exceptions=True,
    )

    winners = [r for r in results if isinstance(r, CustomerView)]
    assert len(winners) == 1
    assert all(isinstance(r, EmailTakenError) for r in results if r not in winners)
    assert list(world.keyring.store.keys) == [winners[0].id]


async def test_a_customer_is_found_by_email_within_their_tenant(world: World) -> None:
    view = await world.register()

    assert await find_customer_by_email(world.repo, world.keyring, "t1", " ada@EXAMPLE.com") == (
        view.id
    )
    assert await find_customer_by_email(world.repo, world.keyring, "t2", "ada@example.com") is None
    assert await find_customer_by_email(world.repo, world.keyring, "t1", "bob@x.example") is None


async def test_a_patch_changes_only_the_fields_it_sets_and_that_differ(world: World) -> None:
    view = await world.register()
    world.clock.advance(timedelta(hours=1))

    updated = await world.update(
        view.id, name="Ada Lovelace", phone=None, tags=["vip", "b2b"], addresses=UNSET
    )

    assert await world.event_types(view.id) == ["Registered", "PhoneChanged", "TagsSet"]
    assert updated.phone is None
    assert (updated.email, updated.name, updated.addresses) == (view.email, view.name, [HOME])
    assert updated.tags == ["vip", "b2b"]
    assert updated.updated_at == world.clock.now()


async def test_an_invalid_patch_records_nothing(world: World) -> None:
    view = await world.register()

    with pytest.raises(InvalidValueError):
        await world.update(view.id, name="Ada Byron", phone="not a phone")

    assert await world.event_types(view.id) == ["Registered"]


async def test_changing_the_email_frees_the_old_one_and_takes_the_new(world: World) -> None:
    ada = await world.register()
    await world.update(ada.id, email="countess@lovelace.example")

    bob = await world.register(RegisterCustomer(email="ada@example.com"))
    with pytest.raises(EmailTakenError):
        await world.register(RegisterCustomer(email="Countess@Lovelace.example"))
    assert await find_customer_by_email(world.repo, world.keyring, "t1", "ada@example.com") == (
        bob.id
    )


async def test_changing_to_an_email_another_customer_has_is_refused(world: World) -> None:
    ada = await world.register()
    await world.register(RegisterCustomer(email="bob@example.com"))

    with pytest.raises(EmailTakenError):
        await world.update(ada.id, email="bob@example.com", name="Someone Else")

    assert await world.event_types(ada.id) == ["Registered"]


async def test_changing_only_the_letter_case_of_the_email_keeps_its_claim(world: World) -> None:
    ada = await world.register()

    updated = await world.update(ada.id, email="ada@example.com")

    assert updated.email == "ada@example.com"
    assert await world.event_types(ada.id) == ["Registered", "EmailChanged"]
    with pytest.raises(EmailTakenError):
        await world.register(RegisterCustomer(email="Ada@Example.com"))


async def test_a_blocked_customer_cannot_change_their_profile_but_gets_notes(
    world: World,
) -> None:
    view = await world.register()
    await app.block_customer(world.repo, world.clock, STAFF, view.id)

    with pytest.raises(CustomerBlockedError):
        await world.update(view.id, name="Ada Byron")
    with pytest.raises(CustomerBlockedError):
        await app.set_marketing_consent(world.repo, world.clock, STAFF, view.id, True)
    number = await app.add_customer_note(world.services, STAFF, view.id, "chargeback twice")
    await app.unblock_customer(world.repo, world.clock, STAFF, view.id)

    current = await world.get(view.id)
    assert number == 1
    assert current.status == "active"
    assert [(n.text, n.author) for n in current.notes] == [("chargeback twice", "staff-1")]


async def test_consent_is_granted_and_withdrawn(world: World) -> None:
    view = await world.register()

    await app.set_marketing_consent(world.repo, world.clock, STAFF, view.id, True)
    assert (await world.get(view.id)).marketing_consent.granted
    await app.set_marketing_consent(world.repo, world.clock, STAFF, view.id, False)

    consent = (await world.get(view.id)).marketing_consent
    assert not consent.granted
    assert consent.at == world.clock.now()


async def test_after_erasure_the_events_load_and_only_personal_data_is_gone(
    world: World,
) -> None:
    view = await world.register()
    await world.update(view.id, name="Augusta Ada King")
    await app.add_customer_note(world.services, STAFF, view.id, "note")
    await app.block_customer(world.repo, world.clock, STAFF, view.id)
    world.clock.advance(timedelta(days=30))

    await world.erase(view.id)

    erased = await world.get(view.id)
    assert (erased.email, erased.name, erased.phone, erased.addresses) == (None, None, None, [])
    assert [(n.number, n.text, n.author) for n in erased.notes] == [(1, None, "staff-1")]
    assert erased.erased
    assert erased.erased_at == world.clock.now()
    assert (erased.id, erased.status, erased.tags, erased.created_at) == (
        view.id,
        "erased",
        [],
        view.created_at,
    )
    assert view.id not in world.keyring.store.keys
    history = await app.export_customer(world.repo, world.keyring, "t1", view.id)
    assert [h.type for h in history.history] == [
        "Registered", "NameChanged", "NoteAdded", "Blocked", "Erased",
    ]  # fmt: skip
    assert history.history[0].data["email"] is None
    assert history.history[0].data["tags"] == [None]  # sealed, and now unreadable


async def test_an_erased_customers_old_events_stay_unreadable_as_of_any_version(
    world: World,
) -> None:
    view = await world.register()
    await world.erase(view.id)

    as_registered = await world.repo.get(view.id, version=1, kind=Customer)
    sealed = as_registered.email

    assert sealed is not None
    ciphertext = base64.b64decode(sealed.ciphertext)
    assert await world.keyring.decrypt(view.id, ciphertext, b"email") is ERASED
    assert (await customer_view(world.keyring, as_registered)).email is None


async def test_erasure_frees_the_email_and_can_be_retried(world: World) -> None:
    view = await world.register()
    await world.erase(view.id)

    await world.erase(view.id)  # a retry completes (forgets again) and records nothing
    again = await world.register()

    assert await world.event_types(view.id) == ["Registered", "Erased"]
    assert again.id != view.id


async def test_an_erased_customer_refuses_changes(world: World) -> None:
    view = await world.register()
    await world.erase(view.id)

    with pytest.raises(CustomerErasedError):
        await world.update(view.id, tags=["vip"])
    with pytest.raises(CustomerErasedError):
        await app.add_customer_note(world.services, STAFF, view.id, "x")


async def test_the_export_holds_everything_including_earlier_values(world: World) -> None:
    view = await world.register()
    await world.update(view.id, email="countess@lovelace.example", addresses=[WORK])

    export = await app.export_customer(world.repo, world.keyring, "t1", view.id)

    assert export.customer == await world.get(view.id)
    registered, email_changed, addresses_replaced = export.history
    assert registered.type == "Registered"
    assert registered.data["email"] == "Ada@example.com"
    assert registered.data["addresses"] == [
        {"name": "Ada Lovelace", "line1": "12 St James Sq", "city": "London",
         "postal_code": "SW1Y 4JH", "country": "GB", "line2": None, "region": None}
    ]  # fmt: skip
    assert registered.actor == "staff-1"
    assert email_changed.data["email"] == "countess@lovelace.example"
    assert addresses_replaced.data["addresses"][0]["city"] == "Leeds"


async def test_another_tenant_cannot_see_or_change_a_customer(world: World) -> None:
    view = await world.register()

    with pytest.raises(AggregateNotFoundError):
        await world.get(view.id, tenant_id="t2")
    with pytest.raises(AggregateNotFoundError):
        await app.export_customer(world.repo, world.keyring, "t2", view.id)
    with pytest.raises(AggregateNotFoundError):
        await app.erase_customer(world.services, OTHER_TENANT, view.id)
    with pytest.raises(AggregateNotFoundError):
        await app.block_customer(world.repo, world.clock, OTHER_TENANT, view.id)

    assert view.id in world.keyring.store.keys


async def test_setting_the_same_tags_records_nothing_and_new_ones_are_sealed(
    world: World,
) -> None:
    view = await world.register()

    await world.update(view.id, tags=["VIP"])  # the same tag, once normalized
    assert await world.event_types(view.id) == ["Registered"]

    changed = await world.update(view.id, tags=["vip", "wholesale"])
    assert changed.tags == ["vip", "wholesale"]
    assert await world.event_types(view.id) == ["Registered", "TagsSet"]
    stored, _ = await world.all_bytes()
    assert "wholesale" not in stored


async def test_a_refused_tag_is_named_by_position_not_echoed(world: World) -> None:
    with pytest.raises(InvalidValueError) as refused:
        await world.register(RegisterCustomer(email="a@example.com", tags=["ok", "ada lovelace"]))

    assert "lovelace" not in str(refused.value)
    assert "tag 2" in str(refused.value)


async def test_a_change_racing_the_erasure_is_refused_as_erased_and_records_nothing(
    world: World,
) -> None:
    view = await world.register()
    await world.keyring.forget(view.id)  # the erasure shredded the key; its event comes next
    before = await world.event_types(view.id)

    with pytest.raises(CustomerErasedError):
        await world.update(view.id, tags=["vip"])
    with pytest.raises(CustomerErasedError):
        await app.add_customer_note(world.services, STAFF, view.id, "call back")

    assert await world.event_types(view.id) == before


async def test_an_erased_customer_from_a_snapshot_of_older_state_still_reads_erased(
    world: World,
) -> None:
    view = await world.register()
    await world.erase(view.id)
    customer = await world.repo.get(view.id, kind=Customer)
    # as a snapshot taken before erasure cleared tags and set its own status holds it
    customer.status, customer.tags = CustomerStatus.BLOCKED, ["vip"]

    erased = await customer_view(world.keyring, customer)

    assert (erased.status, erased.tags, erased.erased) == ("erased", [], True)


async def test_a_whole_profile_is_registered_changed_and_opened_with_one_key_lookup_each() -> None:
    keys = CountingKeyStore()
    world = World(
        store := MemoryEventStore(), Repository(store), MemoryKeyring(store=keys), FixedClock()
    )
    view = await world.register()  # email, name, phone, an address, a tag
    registered = keys.loads
    for n in range(3):
        await app.add_customer_note(world.services, STAFF, view.id, f"note {n}")
    keys.loads = 0

    await world.update(view.id, name="Ada Byron", addresses=[HOME, WORK], tags=["VIP", "b2b"])
    updated = keys.loads
    keys.loads = 0
    opened = await world.get(view.id)

    assert registered == 1  # to seal every field under the new key
    assert (updated, keys.loads) == (1, 1)
    assert (opened.name, opened.addresses, opened.tags) == (
        "Ada Byron",
        [HOME, WORK],
        ["vip", "b2b"],
    )
    assert [n.text for n in opened.notes] == ["note 0", "note 1", "note 2"]
