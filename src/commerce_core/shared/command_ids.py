"""Ids and gateway idempotency keys that a retried command derives again, identically.

A command that moves money calls the gateway, then saves. If the save fails (or
the process stops) after the gateway acted, running the command again must
reach the same gateway request with the same idempotency key, so the gateway
answers with its first outcome instead of acting twice.

- With the caller's ``Idempotency-Key`` (``ctx.idempotency_key``) everything
  derives from (tenant, key, purpose): a retry of that request converges.
- Without one, an effect on an existing aggregate derives from the aggregate's
  id and **version**: the state the command acted on. A command that saved
  nothing leaves the version as it was, so running it again repeats the key;
  once saved, the version moved and the same request is a new command.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate

from commerce_core.shared.context import CommandContext
from commerce_core.shared.ports.clock import Ids

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/command-ids")


def _keyed(ctx: CommandContext, purpose: str) -> UUID | None:
    if ctx.idempotency_key is None:
        return None
    return uuid5(_NAMESPACE, f"{ctx.tenant_id}\x00{ctx.idempotency_key}\x00{purpose}")


def new_id(ctx: CommandContext, ids: Ids, purpose: str) -> UUID:
    """The id of something a command creates: derived from its idempotency key, else fresh."""
    keyed = _keyed(ctx, purpose)
    return keyed if keyed is not None else ids.new_id()


def effect_key(ctx: CommandContext, subject: Aggregate, purpose: str) -> str:
    """The gateway idempotency key (and ``Payment`` event reference) of one effect of a
    command on ``subject``: from the command's key if it has one, else from ``subject``'s
    id and version."""
    keyed = _keyed(ctx, f"{subject.id}:{purpose}")
    if keyed is not None:
        return f"{subject.id}:{purpose}:k{keyed.hex[:16]}"
    return f"{subject.id}:{purpose}:v{subject.version}"


def effect_id(ctx: CommandContext, subject: Aggregate, purpose: str) -> UUID:
    """An id for what the effect creates (a refund), derived like ``effect_key``."""
    return uuid5(_NAMESPACE, effect_key(ctx, subject, purpose))


def intent_key(ctx: CommandContext, subject: Aggregate, purpose: str) -> str:
    """The key of a call to the outside world that a command decides on ``subject``:
    from the command's key if it has one (the same request again finds its intent),
    else fresh. Intents are recorded before the call (ADR 0016), so a command without
    a key that failed recorded nothing and may take a new key; two such commands at
    once are two intents, never one merged into the other."""
    keyed = _keyed(ctx, f"{subject.id}:{purpose}")
    return f"{subject.id}:{purpose}:{(keyed or uuid4()).hex[:16]}"


def intent_id(ctx: CommandContext, subject: Aggregate, purpose: str) -> UUID:
    """An id for what an intent creates (a refund), derived like ``intent_key``."""
    return uuid5(_NAMESPACE, intent_key(ctx, subject, purpose))
