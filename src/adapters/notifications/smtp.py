"""Email through SMTP with aiosmtplib. ``SMTP_URL``: ``smtp://user:pass@host:port``
(STARTTLS when the server offers it; ``?starttls=1`` requires it, ``?starttls=0``
never), ``smtps://`` for implicit TLS."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import msgspec

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

    async def send(self, email: Email) -> str | None:
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
            return f"{type(error).__name__}: {error}"
        return None
