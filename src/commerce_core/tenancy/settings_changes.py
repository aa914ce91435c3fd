"""Use cases of a tenant's admin settings: show them, change them, list their changes.

A change is appended to the tenant's settings stream first (optimistic concurrency on
its version: two changes racing are applied one after the other, each to the other's
result), then written to the tenant's settings document, which the hot path reads.
A write that did not happen (a crash between the two) is made by the next show or
change; the document's ``settings_version`` keeps a late write from undoing a newer
one (ADR 0024).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from commerce_core.eventstore import ConcurrencyError, Repository
from commerce_core.shared.context import CommandContext
from commerce_core.shared.errors import InvalidValueError
from commerce_core.shared.ports.clock import Clock
from commerce_core.shared.retry import DECISION_ATTEMPTS, retry_on_conflict
from commerce_core.tenancy.ports.tenants import (
    Tenant,
    TenantNotFoundError,
    Tenants,
    TenantSettings,
)
from commerce_core.tenancy.settings_log import TenantSettingsLog
from commerce_core.tenancy.settings_patch import (
    SettingChange,
    SettingsPatch,
    admin_values,
    apply_patch,
    changes_of,
)

CLI_ACTOR = "cli"
FIRST_CHANGE = 2  # version 1 of a settings stream keeps the values before it


@dataclass(frozen=True, kw_only=True)
class SettingsServices:
    repo: Repository
    tenants: Tenants
    clock: Clock


class SettingsView(NamedTuple):
    """The settings now; ``version`` 0: never changed through the stream."""

    settings: TenantSettings
    version: int
    updated_at: datetime | None
    updated_by: str | None


class SettingsChangeRecord(NamedTuple):
    version: int
    at: datetime
    actor: str
    role: str | None
    changes: tuple[SettingChange, ...]


class SettingsPage(NamedTuple):
    items: list[SettingsChangeRecord]
    next_before: int | None
    """The ``before`` of the next (older) page; ``None``: this was the oldest."""


async def show_settings(services: SettingsServices, tenant_id: UUID) -> SettingsView:
    """The tenant's settings; ``TenantNotFoundError`` for an unknown tenant."""
    tenant = await _tenant(services.tenants, tenant_id)
    return await _view(services, tenant, await _log(services.repo, tenant_id))


async def change_settings(
    services: SettingsServices,
    ctx: CommandContext,
    patch: SettingsPatch,
    *,
    role: str | None = None,
    expected_version: int | None = None,
) -> SettingsView:
    """Applies the patch to the tenant of ``ctx`` and records what it changed, by
    ``ctx.actor`` (and ``role``), at the clock's time.

    A patch that changes nothing records nothing. ``InvalidSettingError`` (naming the
    field) records nothing either. With ``expected_version``, a tenant whose settings
    are at another version raises ``ConcurrencyError`` (changed meanwhile); without,
    a change that lost a race is applied again over the winner's.
    """
    tenant_id = UUID(ctx.tenant_id)

    async def attempt() -> SettingsView:
        tenant = await _tenant(services.tenants, tenant_id)
        log = await _log(services.repo, tenant_id)
        version = log.version if log is not None else 0
        if expected_version is not None and expected_version != version:
            raise ConcurrencyError(TenantSettingsLog.id_for(ctx.tenant_id), expected_version)
        current = _current(tenant, log)
        changed = apply_patch(current, patch)
        changes = changes_of(current, changed)
        if not changes:
            return await _view(services, tenant, log)
        at = services.clock.now()
        if log is None:
            log = TenantSettingsLog.start(ctx.tenant_id, admin_values(tenant.settings), at)
        log.change(changes, ctx.actor, role, at)
        await services.repo.save(log, metadata=ctx.metadata(), idempotency_key=ctx.idempotency_key)
        await services.tenants.write_settings(tenant_id, log.values, log.version)
        return SettingsView(changed, log.version, log.updated_at, log.updated_by)

    if expected_version is not None:
        return await attempt()
    return await retry_on_conflict(attempt, DECISION_ATTEMPTS)


async def settings_history(
    repo: Repository, tenant_id: UUID, limit: int, before: int | None = None
) -> SettingsPage:
    """The tenant's changes, newest first: at most ``limit``, older than version ``before``."""
    if limit < 1:
        raise InvalidValueError("limit must be positive")
    stream_id = TenantSettingsLog.id_for(str(tenant_id))
    newest = await repo.store.stream_version(stream_id)
    upto = newest if before is None else min(before - 1, newest)
    if upto < FIRST_CHANGE:
        return SettingsPage([], None)
    start = max(FIRST_CHANGE, upto - limit + 1)
    records = []
    for recorded in await repo.store.read_stream(stream_id, start, upto):
        event: Any = repo.mapper.from_recorded(recorded)
        records.append(
            SettingsChangeRecord(
                version=recorded.version,
                at=event.at,
                actor=event.actor,
                role=event.role,
                changes=tuple(event.changes),
            )
        )
    records.reverse()
    return SettingsPage(records, start if start > FIRST_CHANGE else None)


async def _tenant(tenants: Tenants, tenant_id: UUID) -> Tenant:
    tenant = await tenants.get_tenant(tenant_id)
    if tenant is None:
        raise TenantNotFoundError(tenant_id)
    return tenant


async def _log(repo: Repository, tenant_id: UUID) -> TenantSettingsLog | None:
    stream_id = TenantSettingsLog.id_for(str(tenant_id))
    found = await repo.get_many([stream_id], kind=TenantSettingsLog)
    return found.get(stream_id)


def _current(tenant: Tenant, log: TenantSettingsLog | None) -> TenantSettings:
    """The settings document with the stream's admin values over it: the stream is
    their truth, even while the document's write is late."""
    if log is None:
        return tenant.settings
    document = {**msgspec.to_builtins(tenant.settings), **log.values}
    return msgspec.convert(document, TenantSettings)


async def _view(
    services: SettingsServices, tenant: Tenant, log: TenantSettingsLog | None
) -> SettingsView:
    if log is None:
        return SettingsView(tenant.settings, 0, None, None)
    if tenant.settings_version < log.version:  # the write after the append did not happen
        await services.tenants.write_settings(tenant.id, log.values, log.version)
    return SettingsView(_current(tenant, log), log.version, log.updated_at, log.updated_by)
