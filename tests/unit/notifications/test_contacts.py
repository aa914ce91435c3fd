"""Reaching customers for notifications: a batch's customers are read together, each only
for its own tenant, never once erased."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from adapters.crypto import WrappedKey
from adapters.memory.clock import FixedClock, RandomIds
from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.keyring import MemoryKeyring, MemoryKeyStore
from commerce_core.customers import services as app
from commerce_core.customers.customer import NotificationConsent
from commerce_core.customers.services import CustomerServices, RegisterCustomer
from commerce_core.eventstore import Repository, StreamLoad
from commerce_core.notifications.contacts import CustomerContacts
from commerce_core.notifications.ports import Contact
from commerce_core.shared.context import CommandContext
from commerce_core.shared.values import Address

HOME = Address(name="Ada", line1="12 St James Sq", city="London", postal_code="SW1", country="GB")


class CountingEventStore(MemoryEventStore):
    """Counts the reads a database would answer: one per ``load_stream``, one per
    ``load_streams`` however many streams (the memory store loads them one by one)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self._inside = False

    async def load_stream(self, stream_id: uuid.UUID, to_version: int | None = None) -> StreamLoad:
        self.loads += not self._inside
        return await super().load_stream(stream_id, to_version)

    async def load_streams(self, stream_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, StreamLoad]:
        self.loads += 1
        self._inside = True
        try:
            return await super().load_streams(stream_ids)
        finally:
            self._inside = False


class CountingKeyStore(MemoryKeyStore):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    async def load(self, key_id: uuid.UUID) -> WrappedKey | None:
        self.loads += 1
        return await super().load(key_id)

    async def load_many(self, key_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, WrappedKey]:
        self.loads += 1
        return await super().load_many(key_ids)


async def test_a_batchs_customers_and_their_keys_are_read_once_each_tenant_its_own() -> None:
    events, keys = CountingEventStore(), CountingKeyStore()
    repo, keyring = Repository(events), MemoryKeyring(store=keys)
    services = CustomerServices(repo=repo, keyring=keyring, clock=FixedClock(), ids=RandomIds())

    async def register(tenant: str, email: str, sms: bool = False) -> uuid.UUID:
        command = RegisterCustomer(
            email=email,
            name=email.split("@")[0].title(),
            phone="+44 20 7946 0958",
            addresses=[HOME, HOME],
            tags=["vip", "wholesale"],
            consent=NotificationConsent(email=True, sms=sms),
        )
        ctx = CommandContext(tenant_id=tenant, actor="staff")
        return (await app.register_customer(services, ctx, command)).id

    ada = await register("t1", "ada@example.com", sms=True)
    bob = await register("t1", "bob@example.com")
    eve = await register("t2", "eve@example.com")
    gone = await register("t1", "gone@example.com")
    await app.erase_customer(services, CommandContext(tenant_id="t1", actor="staff"), gone)
    events.loads = keys.loads = 0

    found = await CustomerContacts(repo, keyring).of(
        {("t1", ada), ("t1", bob), ("t2", eve), ("t1", eve), ("t2", ada), ("t1", gone),
         ("t1", uuid.uuid4())}
    )  # fmt: skip

    assert found == {
        ("t1", ada): Contact(
            name="Ada", email="ada@example.com", phone="+44 20 7946 0958",
            email_consent=True, sms_consent=True,
        ),
        ("t1", bob): Contact(
            name="Bob", email="bob@example.com", phone="+44 20 7946 0958",
            email_consent=True, sms_consent=False,
        ),
        ("t2", eve): Contact(
            name="Eve", email="eve@example.com", phone="+44 20 7946 0958",
            email_consent=True, sms_consent=False,
        ),
    }  # fmt: skip
    assert (events.loads, keys.loads) == (1, 1)


async def test_no_customers_asked_reads_nothing() -> None:
    events, keys = CountingEventStore(), CountingKeyStore()

    assert await CustomerContacts(Repository(events), MemoryKeyring(store=keys)).of(set()) == {}
    assert (keys.loads, events.loads) == (0, 0)
