"""Opaque list cursors: a page's last key as base64url JSON; anything else is a 422."""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

import msgspec

from entrypoints.http.problems import problem

T = TypeVar("T")


def encode(cursor: Any | None) -> str | None:
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


def decode(raw: str | None, kind: type[T]) -> T | None:
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        return msgspec.json.decode(base64.urlsafe_b64decode(padded), type=kind)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise problem(422, "validation-error", "cursor is not one this API returned") from None
