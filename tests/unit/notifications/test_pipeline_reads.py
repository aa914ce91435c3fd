"""The notification pipeline reads per batch (ADR 0055): however many orders a batch
holds, their orders, customers and keys are read once when recording and the customers
and keys once when sending; each message still goes to its own customer."""

from __future__ import annotations

from adapters.memory.clock import RandomIds
from adapters.memory.keyring import MemoryKeyring
from adapters.memory.notifications import (
    MemoryNotifications,
    MemoryOutbox,
    MemoryTemplates,
    OutboxEmail,
)
from commerce_core.customers.customer import NotificationConsent
from commerce_core.customers.services import RegisterCustomer, register_customer
from commerce_core.notifications.contacts import CustomerContacts
from commerce_core.notifications.pipeline import NotificationDeps, record_next, send_due
from commerce_core.ordering.services import CustomerRef
from tests.unit.notifications.test_contacts import CountingEventStore, CountingKeyStore
from tests.unit.shop import STAFF, Shop


async def test_a_batch_of_orders_is_recorded_and_sent_with_one_read_of_each_kind() -> None:
    events, keys = CountingEventStore(), CountingKeyStore()
    shop = Shop(store=events, keyring=MemoryKeyring(store=keys))  # type: ignore[arg-type]
    await shop.product("MUG", stock=100)
    emails = [f"buyer{n}@example.com" for n in range(6)]
    for email in emails:
        command = RegisterCustomer(email=email, name=email[:6], consent=NotificationConsent())
        customer = await register_customer(shop.customer_services, STAFF, command)
        await shop.place(("MUG", 1), customer=CustomerRef(id=customer.id))
    outbox = MemoryOutbox()
    deps = NotificationDeps(
        notifications=MemoryNotifications(),
        templates=MemoryTemplates(),
        contacts=CustomerContacts(shop.repo, shop.keyring),
        repo=shop.repo,
        email=OutboxEmail(outbox),
        sms=None,
        clock=shop.clock,
        ids=RandomIds(),
        jitter=lambda: 1.0,
        links="https://shop.example",
    )
    events.loads = keys.loads = 0

    assert await record_next(events, deps) > 0
    recorded = (events.loads, keys.loads)
    events.loads = keys.loads = 0
    assert await send_due(deps) == 6
    sent = (events.loads, keys.loads)

    assert recorded == (2, 1)  # the orders, then their customers (and their keys)
    assert sent == (1, 1)  # the customers again, just before sending
    by_recipient = {email.to: email.subject for email in outbox.emails}
    assert sorted(by_recipient) == sorted(emails)
    assert all(subject.startswith("Order ") for subject in by_recipient.values())
