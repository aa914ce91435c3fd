"""Email through SMTP with aiosmtplib. ``SMTP_URL``: ``smtp://user:pass@host:port``
(STARTTLS when the server offers it; ``?starttls=1`` requires it, ``?starttls=0``
never), ``smtps://`` for implicit TLS."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import msgspec

from commerce_core.notifications.notification import SendFailure
from commerce_core.notifications.ports import Email


class SmtpConfig(msgspec.Struct, frozen=True, kw_only=True):
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL: use smtp://[user:password@]host[:port] or smtps://...")
    implicit = parts.scheme == "smtps"
    flag = parse_qs(parts.query).get("starttls", [None])[0]
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit,
        start_tls=None if implicit or flag is None else flag in ("1", "true", "yes"),
    )


class SmtpEmailSender:
    def __init__(self, url: str, from_address: str, timeout: float = 30.0) -> None:
        self._config = parse_smtp_url(url)
        self._from = from_address
        self._timeout = timeout

    async def send(self, email: Email) -> SendFailure | None:
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = email.to
        message["Subject"] = email.subject
        message["Message-ID"] = email.message_id
        message.set_content(email.text)
        message.add_alternative(email.html, subtype="html")
        c = self._config
        try:
            await aiosmtplib.send(
                message,
                hostname=c.host,
                port=c.port,
                username=c.username,
                password=c.password,
                use_tls=c.use_tls,
                start_tls=c.start_tls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            return SendFailure(f"{type(error).__name__}: {error}", refused_for_good(error))
        return None


def refused_for_good(error: Exception) -> bool:
    """Whether the server refused this message for good: a 5yz reply (RFC 5321: permanent)
    to RCPT (this recipient) or to DATA (this message). A 4yz reply is a "try later", and a
    5yz to MAIL FROM or AUTH is this service's own configuration, the same for every message,
    so both are retried rather than given up on one message at a time."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(_permanent(r.code) for r in error.recipients)
    if isinstance(error, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        return _permanent(error.code)
    return False


def _permanent(code: int) -> bool:
    return 500 <= code < 600
