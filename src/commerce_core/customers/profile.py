"""Rules for a customer's profile values, checked in plain text before they are sealed.

The ``Customer`` aggregate only sees sealed values, so the application calls
these checks first; each returns the value as it is stored, or raises
``InvalidValueError``.
"""

from __future__ import annotations

import re
import unicodedata

from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.values import Address

MAX_EMAIL = 254
MAX_NAME = 200
MAX_NOTE = 5000
MAX_TAGS = 50
MAX_ADDRESSES = 20

_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
_PHONE = re.compile(r"\+?[0-9][0-9 ().\-]{4,24}")
_TAG = re.compile(r"[a-z0-9][a-z0-9_:\-]{0,49}")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


def normalize_email(email: str) -> str:
    """The email trimmed with its domain lower-cased; refuses what is not an address."""
    email = email.strip()
    if len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        raise InvalidValueError("not a valid email address")
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def email_lookup_key(email: str) -> str:
    """What the blind index hashes: one key for every spelling of one mailbox."""
    return normalize_email(email).casefold()


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or _has_control(name):
        raise InvalidValueError(f"a name has 1 to {MAX_NAME} printable characters")
    return name


def check_phone(phone: str) -> str:
    phone = phone.strip()
    digits = sum(ch.isdigit() for ch in phone)
    if not _PHONE.fullmatch(phone) or not 5 <= digits <= 15:
        raise InvalidValueError("not a valid phone number")
    return phone


def check_addresses(addresses: list[Address]) -> list[Address]:
    """An address book; each ``Address`` checked its own fields when it was made."""
    if len(addresses) > MAX_ADDRESSES:
        raise InvalidValueError(f"a customer has at most {MAX_ADDRESSES} addresses")
    return list(addresses)


def normalize_tags(tags: list[str]) -> list[str]:
    """Tags lower-cased, without repeats, in the order given.

    Tags are labels for segments ("vip", "wholesale"); they are sealed like the
    rest of the profile, and a refused one is named by position, not echoed, since
    refusals are kept with the Idempotency-Key (ADR 0021).
    """
    normalized = list(dict.fromkeys(t.strip().lower() for t in tags))
    if len(normalized) > MAX_TAGS:
        raise InvalidValueError(f"a customer has at most {MAX_TAGS} tags")
    for position, tag in enumerate(normalized, start=1):
        if not _TAG.fullmatch(tag):
            raise InvalidValueError(f"tag {position} is invalid: letters, digits, '_', ':' or '-'")
    return normalized


def check_note_text(text: str) -> str:
    text = text.strip()
    if not text or len(text) > MAX_NOTE:
        raise InvalidValueError(f"a note has 1 to {MAX_NOTE} characters")
    return text
