"""Customer notifications (ADR 0038): what was sent, and the tenant's templates. Admins
only: the list names customers' orders and masked addresses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import Body, FromPath

from commerce_core.notifications.notification import Kind, Notification, NotificationChannel
from commerce_core.notifications.notification import NotificationStatus as Status
from commerce_core.notifications.ports import ListKey, Templates
from commerce_core.notifications.templates import (
    MAX_TEMPLATE_CHARS,
    SAMPLE,
    TemplateOverride,
    check_override,
    merged,
    parse_kind,
    render,
)
from entrypoints.http.api import cursors
from entrypoints.http.api.customer_list import CursorQuery, Limit
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, example_body, query_problems

_Part = Annotated[str, msgspec.Meta(max_length=MAX_TEMPLATE_CHARS)]


class TemplateIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Parts left out (or null) keep the default (or, for a preview, the stored one)."""

    subject: _Part | None = None
    text: _Part | None = None
    html: _Part | None = None
    sms: _Part | None = None


class NotificationOut(msgspec.Struct, kw_only=True):
    id: UUID
    kind: Kind
    channel: NotificationChannel
    recipient: str
    """Masked: enough to tell recipients apart."""
    order_id: UUID
    status: Status
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, n: Notification) -> NotificationOut:
        return cls(
            id=n.id,
            kind=n.kind,
            channel=n.channel,
            recipient=n.recipient,
            order_id=n.order_id,
            status=n.status,
            attempts=n.attempts,
            last_error=n.last_error,
            created_at=n.created_at,
            sent_at=n.sent_at,
        )


class NotificationList(msgspec.Struct, kw_only=True):
    items: list[NotificationOut]
    next_cursor: str | None = None


class TemplateOut(msgspec.Struct, kw_only=True):
    name: Kind
    subject: str
    text: str
    html: str
    sms: str


class PreviewOut(msgspec.Struct, kw_only=True):
    """The template rendered with sample data (``values``)."""

    name: Kind
    subject: str
    text: str
    html: str
    sms: str
    values: dict[str, str]


TEMPLATE = Body(
    examples=example_body(
        (
            "A friendlier subject",
            {"subject": "Good news: order {{ order_number }} is on its way"},
        ),
        (
            "Own text and HTML",
            {
                "text": "Hi {{ customer_name }}, order {{ order_number }} shipped.",
                "html": "<p>Hi {{ customer_name }}, order {{ order_number }} shipped.</p>",
            },
        ),
    )
)


def _templates(request: Request[Any, Any, Any]) -> Templates:
    templates: Templates = request.app.state.container.notification_templates()
    return templates


def _override(data: TemplateIn) -> TemplateOverride:
    return check_override(
        TemplateOverride(subject=data.subject, text=data.text, html=data.html, sms=data.sms)
    )


def _stacked(stored: TemplateOverride | None, draft: TemplateOverride) -> TemplateOverride:
    if stored is None:
        return draft
    return TemplateOverride(
        subject=draft.subject if draft.subject is not None else stored.subject,
        text=draft.text if draft.text is not None else stored.text,
        html=draft.html if draft.html is not None else stored.html,
        sms=draft.sms if draft.sms is not None else stored.sms,
    )


class NotificationsAdminController(Controller):
    path = "/admin"
    tags = ["notifications"]

    @get(
        "/notifications",
        summary="List customer notifications",
        responses=query_problems("forbidden", "validation-error"),
    )
    async def list_notifications(
        self,
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        limit: Limit = 50,
        cursor: CursorQuery = None,
    ) -> NotificationList:
        """The tenant's email and SMS notifications, newest first: kind, channel, masked
        recipient, status, attempts, when recorded and sent (admin). Pages with `limit`
        and `cursor` (the previous page's `next_cursor`). Without `SMTP_URL` or Twilio
        settings the messages go to an in-memory outbox and show here."""
        store = request.app.state.container.notifications()
        after = cursors.decode(cursor, ListKey)
        found = await store.list(str(principal.tenant_id), limit + 1, after)
        page = found[:limit]
        more = len(found) > limit
        return NotificationList(
            items=[NotificationOut.of(n) for n in page],
            next_cursor=cursors.encode(ListKey.of(page[-1])) if more else None,
        )

    @get(
        "/notification-templates/{name:str}",
        summary="Show a notification template",
        responses=query_problems("forbidden", "validation-error"),
    )
    async def show_template(
        self,
        name: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> TemplateOut:
        """The template the tenant's customers get for `name` (such as `shipped`): its
        own parts where it set them, the defaults elsewhere (admin)."""
        kind = parse_kind(name)
        stored = await _templates(request).get(str(principal.tenant_id), kind)
        t = merged(kind, stored)
        return TemplateOut(name=kind, subject=t.subject, text=t.text, html=t.html, sms=t.sms)

    @put(
        "/notification-templates/{name:str}",
        summary="Set a notification template",
        responses=command_problems("forbidden", "validation-error", "template-invalid"),
    )
    async def set_template(
        self,
        name: FromPath[str],
        data: Annotated[TemplateIn, TEMPLATE],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> TemplateOut:
        """Replaces the tenant's own parts of template `name` (a part left out keeps the
        default) after rendering it with sample data: a template that does not render
        (syntax, an unknown value, a reach outside the sandbox) is refused with 422
        `template-invalid` and nothing changes (admin)."""
        kind = parse_kind(name)
        override = _override(data)
        t = merged(kind, override)
        render(t, SAMPLE)
        await _templates(request).put(str(principal.tenant_id), kind, override)
        return TemplateOut(name=kind, subject=t.subject, text=t.text, html=t.html, sms=t.sms)

    @post(
        "/notification-templates/{name:str}/preview",
        status_code=200,
        summary="Preview a notification template",
        responses=command_problems("forbidden", "validation-error", "template-invalid"),
    )
    async def preview(
        self,
        name: FromPath[str],
        data: Annotated[TemplateIn, TEMPLATE],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> PreviewOut:
        """Renders template `name` with sample data: the parts in the body, else the
        tenant's stored ones, else the defaults. Changes nothing; 422
        `template-invalid` names the part that does not render (admin)."""
        kind = parse_kind(name)
        stored = await _templates(request).get(str(principal.tenant_id), kind)
        out = render(merged(kind, _stacked(stored, _override(data))), SAMPLE)
        return PreviewOut(
            name=kind,
            subject=out.subject,
            text=out.text,
            html=out.html,
            sms=out.sms,
            values=dict(SAMPLE),
        )
