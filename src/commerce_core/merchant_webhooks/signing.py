"""The ``Commerce-Signature`` header: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``,
one ``v1`` per secret while a rotation lets the old secret sign too."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

HEADER = "Commerce-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    parts = [f"t={timestamp}", *(f"v1={signature(s, timestamp, body)}" for s in secrets)]
    return ",".join(parts)
