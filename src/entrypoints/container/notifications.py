"""Notification stores, the outbox and the email and SMS senders (ADR 0038)."""

from __future__ import annotations

import asyncpg

from adapters.memory.notifications import (
    MemoryNotifications,
    MemoryOutbox,
    MemoryTemplates,
    OutboxEmail,
    OutboxSms,
)
from adapters.notifications.smtp import SmtpEmailSender
from adapters.notifications.twilio_sms import TwilioSmsSender
from adapters.postgres.notifications import PostgresNotifications, PostgresTemplates
from commerce_core.notifications.ports import EmailSender, Notifications, SmsSender, Templates
from entrypoints.settings import Settings


def notifications(pool: asyncpg.Pool | None) -> Notifications:
    return MemoryNotifications() if pool is None else PostgresNotifications(pool)


def notification_templates(pool: asyncpg.Pool | None) -> Templates:
    return MemoryTemplates() if pool is None else PostgresTemplates(pool)


def outbox() -> MemoryOutbox:
    return MemoryOutbox()


def email_sender(settings: Settings, outbox: MemoryOutbox) -> EmailSender:
    if settings.smtp_url is None:
        return OutboxEmail(outbox)
    return SmtpEmailSender(settings.smtp_url, settings.email_from)


def sms_sender(settings: Settings, outbox: MemoryOutbox) -> SmsSender:
    sid, token, sender = (
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        settings.twilio_from,
    )
    if sid is None or token is None or sender is None:
        return OutboxSms(outbox)
    return TwilioSmsSender(sid, token, sender, settings.twilio_base_url)
