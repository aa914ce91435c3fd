"""Verify a merchant webhook from commerce-core (standard library only)."""

import hashlib
import hmac
import time


def verify_commerce_signature(
    secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None
) -> bool:
    """True when ``header`` (the ``Commerce-Signature`` value) signs ``body`` (the raw
    request body, before any JSON parsing) with ``secret`` and is at most ``tolerance``
    seconds old. During a secret rotation the header carries two ``v1=`` signatures:
    one matching is enough."""
    timestamp, signatures = None, []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False  # an old delivery replayed by someone else
    signed = f"{timestamp}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)
