"""Who issues a command, for whom: the part of every event's metadata that callers supply."""

from __future__ import annotations

from dataclasses import dataclass

from commerce_core.eventstore import EventMetadata


@dataclass(frozen=True)
class CommandContext:
    """The caller of a command: tenant, actor and tracing ids, and its idempotency key if any.

    ``refund_approval_above``: refunds by this caller that would take an order's refunds
    (done, running and awaiting approval) above this many minor units wait for an admin's
    approval (ADR 0020); ``None``: the caller's refunds run directly (an admin, the jobs).
    """

    tenant_id: str
    actor: str
    correlation_id: str | None = None
    causation_id: str | None = None
    idempotency_key: str | None = None
    refund_approval_above: int | None = None

    def metadata(self) -> EventMetadata:
        return EventMetadata(
            tenant_id=self.tenant_id,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            actor=self.actor,
        )
