"""The events an endpoint may subscribe to, and the patterns that name them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commerce_core.integration import IntegrationEventType
from commerce_core.shared.errors import InvalidValueError

EVENT_TYPES: frozenset[str] = frozenset(str(kind) for kind in IntegrationEventType)
"""The documented integration event types (issue 16); a pattern must match one of them."""

MAX_PATTERNS = 50


class WebhookEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An integration event as a delivery needs it; ``payload`` is JSON-ready."""

    id: UUID
    type: str
    tenant: str
    occurred_at: datetime
    payload: dict[str, object]


def matches(pattern: str, event_type: str) -> bool:
    """``*`` (everything), ``order.*`` (a family) or an exact type."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def subscribed(patterns: list[str], event_type: str) -> bool:
    return any(matches(pattern, event_type) for pattern in patterns)


def check_patterns(patterns: list[str]) -> list[str]:
    """The patterns, deduplicated in order; ``InvalidValueError`` naming the first that
    matches no known event type."""
    if not patterns:
        raise InvalidValueError("events: name at least one event type, e.g. 'order.*'")
    if len(patterns) > MAX_PATTERNS:
        raise InvalidValueError(f"events: at most {MAX_PATTERNS} patterns")
    for pattern in patterns:
        if not any(matches(pattern, known) for known in EVENT_TYPES):
            known = ", ".join(sorted(EVENT_TYPES))
            raise InvalidValueError(
                f"events: {pattern!r} matches no event type; use '*', a family such as"
                f" 'order.*', or one of: {known}"
            )
    return list(dict.fromkeys(patterns))
