"""Who issues a command, for whom: the part of every event's metadata that callers supply."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_core.eventstore import EventMetadata


@dataclass(frozen=True)
class CommandContext:
    """The caller of a command: tenant, actor and tracing ids, and its idempotency key if any."""

    tenant_id: str
    actor: str
    correlation_id: str | None = None
    causation_id: str | None = None
    idempotency_key: str | None = None

    def metadata(self) -> EventMetadata:
        return EventMetadata(
            tenant_id=self.tenant_id,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            actor=self.actor,
        )
