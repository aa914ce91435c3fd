"""A tenant's settings stream: each change of its admin settings, with who and when.

One stream per tenant, its id derived from the tenant's (found with one load). It
starts, at the first change, with the values the tenant had then (``Started``, taken
from the settings document: tenants older than the stream, or set up by an operator);
each ``TenantSettingsChanged`` then names the fields it changed with their old and
new values, the actor (an API key, or ``cli``) and the time. The stream is the truth
of the admin fields; the tenant's settings document is written from it (ADR 0024).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from commerce_core.tenancy.settings_patch import SettingChange

_NAMESPACE = uuid5(NAMESPACE_URL, "https://commerce-core.dev/tenant-settings")


class TenantSettingsLog(Aggregate):
    """``values``: the admin fields now (JSON values, as ``settings_patch.admin_values``);
    ``updated_at`` / ``updated_by``: the last change's time and actor."""

    tenant_id: str
    values: dict[str, Any]
    updated_at: datetime
    updated_by: str | None

    @staticmethod
    def id_for(tenant_id: str) -> UUID:
        return uuid5(_NAMESPACE, tenant_id)

    @classmethod
    def start(cls, tenant_id: str, values: dict[str, Any], at: datetime) -> TenantSettingsLog:
        """A new stream whose first event keeps the values the tenant had before it."""
        return cls(id=cls.id_for(tenant_id), tenant_id=tenant_id, values=values, at=at)

    @event("Started")
    def __init__(self, id: UUID, tenant_id: str, values: dict[str, Any], at: datetime) -> None:
        self.tenant_id = tenant_id
        self.values = values
        self.updated_at = at
        self.updated_by = None

    def change(
        self, changes: Sequence[SettingChange], actor: str, role: str | None, at: datetime
    ) -> None:
        """Records the changes; none: nothing is recorded."""
        if changes:
            self._changed(tuple(changes), actor, role, at)

    @event("TenantSettingsChanged")
    def _changed(
        self, changes: tuple[SettingChange, ...], actor: str, role: str | None, at: datetime
    ) -> None:
        values = copy.deepcopy(self.values)
        for change in changes:
            *parents, leaf = change.field.split(".")
            target = values
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = change.new
        self.values = values
        self.updated_at = at
        self.updated_by = actor
