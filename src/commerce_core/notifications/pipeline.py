"""From order events to sent messages (ADR 0038), in two steps like merchant webhooks:

- ``record_next`` reads the events after the checkpoint and records one notification per
  (event, channel) the customer agreed to, together with the new checkpoint, before
  anything is sent;
- ``send_due`` claims the due notifications (a lease: one worker each), reads the
  customer's address and consent again, renders, sends and records the outcome.

A notification is recorded once, so an event read twice (a crash between the reads)
makes no second message; a send is retried with backoff until ``MAX_ATTEMPTS``.

Both steps read what they need per batch, not per notification (ADR 0055): the orders,
customers (with their data keys) and shipments of the events read, the customers and
template overrides of the notifications claimed. Sending works on up to ``CONCURRENCY``
orders at once (an order's own messages one after the other, in order): a send is mostly
waiting for the provider, and one at a time the pipeline fell behind the orders of a
single HTTP worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from commerce_core.eventstore import EventStore, Repository
from commerce_core.fulfilment.shipment import Shipment
from commerce_core.notifications.notification import (
    SMS_KINDS,
    Kind,
    Notification,
    NotificationChannel,
    NotificationStatus,
    Outcome,
    SendFailure,
    after_failure,
    mask_email,
    mask_phone,
)
from commerce_core.notifications.order_events import Notice, notice_of
from commerce_core.notifications.ports import (
    Contact,
    Contacts,
    Email,
    EmailSender,
    Notifications,
    SmsSender,
    Templates,
)
from commerce_core.notifications.templates import (
    SAMPLE,
    Rendered,
    TemplateOverride,
    TemplateRenderError,
    merged,
    render,
)
from commerce_core.ordering.order import Order
from commerce_core.shared.ports.clock import Clock, Ids

LEASE = timedelta(minutes=2)
"""How long a claimed notification is left to its worker; longer than any send."""

CONCURRENCY = 8
"""Orders whose messages are sent at once (each send holds a pooled connection to record)."""

T = TypeVar("T")


async def _at_most(limit: int, work: Iterable[Awaitable[T]]) -> list[T]:
    """The results of ``work`` in its order, with at most ``limit`` running at once."""
    gate = asyncio.Semaphore(limit)

    async def gated(one: Awaitable[T]) -> T:
        async with gate:
            return await one

    return await asyncio.gather(*(gated(one) for one in work))


@dataclass(frozen=True)
class NotificationDeps:
    notifications: Notifications
    templates: Templates
    contacts: Contacts
    repo: Repository
    email: EmailSender
    sms: SmsSender | None
    clock: Clock
    ids: Ids
    jitter: Callable[[], float]
    links: str
    """The shop's public base URL: tracking and payment links start with it."""


async def record_next(log: EventStore, deps: NotificationDeps, limit: int = 500) -> int:
    """Records the notifications of the next events; returns how many events it read
    (0: caught up)."""
    read = await log.read_all(await deps.notifications.checkpoint(), limit)
    if not read:
        return 0
    notices = [notice for recorded in read if (notice := notice_of(recorded)) is not None]
    made = await _notifications_of(notices, deps) if notices else []
    await deps.notifications.add(made, read[-1].position)
    return len(read)


async def _notifications_of(notices: list[Notice], deps: NotificationDeps) -> list[Notification]:
    # the batch's orders, customers (with their data keys) and shipments in one read each
    orders: dict[UUID, Any] = await deps.repo.get_many(
        list({n.order_id for n in notices}), kind=Order
    )
    contacts = await deps.contacts.of(
        {(n.tenant, orders[n.order_id].customer_id) for n in notices if n.order_id in orders}
    )
    shipments: dict[UUID, Any] = await deps.repo.get_many(
        list({n.shipment_id for n in notices if n.shipment_id is not None}), kind=Shipment
    )
    now = deps.clock.now()
    made: list[Notification] = []
    for notice in notices:
        order = orders.get(notice.order_id)
        if order is None or order.tenant_id != notice.tenant:
            continue
        contact = contacts.get((notice.tenant, order.customer_id))
        if contact is None:
            continue
        shipment = None if notice.shipment_id is None else shipments.get(notice.shipment_id)
        if shipment is not None and shipment.tenant_id != notice.tenant:
            shipment = None
        context = _context(notice, order, shipment, deps.links)
        made.extend(
            Notification(
                id=deps.ids.new_id(),
                tenant=notice.tenant,
                event_id=notice.event_id,
                kind=notice.kind,
                channel=channel,
                customer_id=order.customer_id,
                order_id=notice.order_id,
                recipient=recipient,
                context=context,
                status=NotificationStatus.PENDING,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            )
            for channel, recipient in _channels(notice, contact)
        )
    return made


def _channels(notice: Notice, contact: Contact) -> list[tuple[NotificationChannel, str]]:
    channels = []
    if contact.email and contact.email_consent:
        channels.append((NotificationChannel.EMAIL, mask_email(contact.email)))
    if notice.kind in SMS_KINDS and contact.phone and contact.sms_consent:
        channels.append((NotificationChannel.SMS, mask_phone(contact.phone)))
    return channels


def _context(notice: Notice, order: Any, shipment: Any, links: str) -> dict[str, str]:
    base = links.rstrip("/")
    context = {key: "" for key in SAMPLE}  # every name a default uses: they always render
    context.update(notice.facts)
    context.update(
        shop_name=notice.tenant,
        order_number=str(order.number),
        order_id=str(notice.order_id),
        tracking_url=f"{base}/orders/{notice.order_id}/tracking",
        retry_url=f"{base}/orders/{notice.order_id}/pay",
    )
    if shipment is not None:
        context.update(
            carrier=shipment.carrier or "", tracking_number=shipment.tracking_number or ""
        )
    return context


async def send_due(deps: NotificationDeps, limit: int = 50) -> int:
    """Attempts every notification due now (up to ``limit``); returns how many."""
    now = deps.clock.now()
    due = await deps.notifications.claim_due(now, now + LEASE, limit)
    if not due:
        return 0
    # read once for the batch: the customers as they are now, and the tenants' templates
    contacts = await deps.contacts.of({(n.tenant, n.customer_id) for n in due})
    overrides = {
        (tenant, kind): await deps.templates.get(tenant, kind)
        for tenant, kind in {(n.tenant, n.kind) for n in due}
    }
    # an order's messages go out in the order claimed (confirmed before paid); different
    # orders' side by side
    by_order: dict[UUID, list[Notification]] = {}
    for notification in due:
        by_order.setdefault(notification.order_id, []).append(notification)

    async def send_in_turn(notifications: list[Notification]) -> None:
        for n in notifications:
            contact = contacts.get((n.tenant, n.customer_id))
            outcome = await _attempt(n, contact, overrides[n.tenant, n.kind], deps)
            await deps.notifications.record(n, outcome)

    await _at_most(CONCURRENCY, map(send_in_turn, by_order.values()))
    return len(due)


async def _attempt(
    notification: Notification,
    contact: Contact | None,
    override: TemplateOverride | None,
    deps: NotificationDeps,
) -> Outcome:
    address = _address(notification, contact)
    if address is None:  # erased or consent withdrawn since it was recorded
        return Outcome(
            status=NotificationStatus.SKIPPED,
            attempts=notification.attempts,
            next_attempt_at=None,
            error="the customer was erased or withdrew consent",
        )
    values = dict(notification.context)
    values["customer_name"] = (contact.name if contact else None) or ""
    rendered = _rendered(notification.kind, override, values)
    failure: SendFailure | None
    if notification.channel is NotificationChannel.EMAIL:
        failure = await deps.email.send(
            Email(
                to=address,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                message_id=f"<{notification.id}@notifications.commerce-core>",
            )
        )
    elif deps.sms is not None:
        failure = await deps.sms.send(address, rendered.sms)
    else:  # retried: the provider may be configured by then
        failure = SendFailure("no SMS provider is configured (TWILIO_ACCOUNT_SID)")
    at = deps.clock.now()
    if failure is None:
        return Outcome(
            status=NotificationStatus.SENT,
            attempts=notification.attempts + 1,
            next_attempt_at=None,
            sent_at=at,
        )
    return after_failure(notification, at, failure, deps.jitter())


def _address(notification: Notification, contact: Contact | None) -> str | None:
    if contact is None:
        return None
    if notification.channel is NotificationChannel.EMAIL:
        return contact.email if contact.email_consent else None
    return contact.phone if contact.sms_consent else None


def _rendered(kind: Kind, override: TemplateOverride | None, values: dict[str, str]) -> Rendered:
    try:
        return render(merged(kind, override), values)
    except TemplateRenderError:  # a tenant's template that fails here: send the default
        return render(merged(kind, None), values)
