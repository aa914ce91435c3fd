"""What a "no personal data in plain text" test searches in stored events and snapshots.

Sealed values (base64 AES-GCM output), ids, HMAC digests and wall-clock timestamps are
random text. Over a few kilobytes they hold a short secret such as "Ada", "7946" or
"SW1Y" by chance (about one run in 50 for the customer tests), and none of them can hold
plain personal data. ``in_the_clear`` blanks them out, so a search of what is left fails
only on data that really is stored in the clear; ``sealed_values`` decodes the sealed
values, for a search of what a broken seal would leave readable.
"""

from __future__ import annotations

import base64
import re

SEALED = re.compile(r'"ciphertext":"([A-Za-z0-9+/]*={0,2})"')
RANDOM_BY_DESIGN = re.compile(
    SEALED.pattern
    + r"|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"  # ids
    + r'|"[0-9a-f]{64}"'  # HMAC digests (the email index)
    + r"|\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"  # timestamps
)


def in_the_clear(stored: str) -> str:
    """``stored`` with every sealed value, id, digest and timestamp replaced by ``_``."""
    return RANDOM_BY_DESIGN.sub("_", stored)


def sealed_values(stored: str) -> bytes:
    """Every sealed value in ``stored``, base64-decoded (strictly: it is base64 or fails)."""
    return b"".join(base64.b64decode(c, validate=True) for c in SEALED.findall(stored))
