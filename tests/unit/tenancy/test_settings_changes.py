"""Changing a tenant's admin settings: validated, each change an event, no-ops record nothing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.memory.clock import FixedClock
from adapters.memory.eventstore import MemoryEventStore
from adapters.memory.tenants import MemoryTenants
from commerce_core.eventstore import ConcurrencyError, Repository
from commerce_core.shared.context import CommandContext
from commerce_core.tenancy.ports.tenants import FeeTier, TenantSettings
from commerce_core.tenancy.settings_changes import (
    CLI_ACTOR,
    SettingsServices,
    change_settings,
    settings_history,
    show_settings,
)
from commerce_core.tenancy.settings_log import TenantSettingsLog
from commerce_core.tenancy.settings_patch import (
    InvalidSettingError,
    SettingChange,
    SettingsPatch,
    apply_patch,
    changes_of,
    parse_patch,
)
from tests.unit.tenant_shop import TENANT_ID, a_tenant

OTHER_ID = uuid.UUID("0a2b3c4d-2b7a-4c55-9a0e-0d7f5e3b1a02")
ADMIN = CommandContext(tenant_id=str(TENANT_ID), actor="key:admin-1")


class Settings:
    """Two tenants on memory adapters, one clock."""

    def __init__(self, settings: TenantSettings | None = None) -> None:
        self.clock = FixedClock()
        self.store = MemoryEventStore(self.clock.now)
        self.repo = Repository(self.store)
        self.tenants = MemoryTenants()
        self.services = SettingsServices(repo=self.repo, tenants=self.tenants, clock=self.clock)
        self.settings = settings

    async def start(self) -> Settings:
        await self.tenants.add_tenant(a_tenant(self.settings))
        await self.tenants.add_tenant(a_tenant(tenant_id=OTHER_ID))
        return self

    async def change(self, ctx: CommandContext = ADMIN, **patch: Any) -> Any:
        return await change_settings(self.services, ctx, parse_patch(patch), role="admin")

    async def stored(self, tenant_id: uuid.UUID = TENANT_ID) -> TenantSettings:
        tenant = await self.tenants.get_tenant(tenant_id)
        assert tenant is not None
        return tenant.settings

    async def events(self) -> list[str]:
        stream = await self.store.read_stream(TenantSettingsLog.id_for(str(TENANT_ID)))
        return [e.type.rsplit(".", 1)[-1] for e in stream]


async def test_a_change_is_stored_and_recorded_with_who_when_and_what() -> None:
    s = await Settings().start()

    view = await s.change(reservation_minutes=45, segment_rules={"vip_min_orders": 5})

    assert view.settings.reservation_minutes == 45
    assert view.settings.segment_rules.vip_min_orders == 5
    assert (view.version, view.updated_by, view.updated_at) == (2, "key:admin-1", s.clock.now())
    stored = await s.stored()
    assert stored.reservation_minutes == 45
    assert stored.segment_rules.vip_min_orders == 5
    assert await s.events() == ["Started", "TenantSettingsChanged"]
    page = await settings_history(s.repo, TENANT_ID, limit=10)
    [record] = page.items
    assert (record.actor, record.role, record.at) == ("key:admin-1", "admin", s.clock.now())
    assert record.changes == (
        SettingChange(field="reservation_minutes", old=30, new=45),
        SettingChange(field="segment_rules.vip_min_orders", old=10, new=5),
    )
    assert page.next_before is None


async def test_a_patch_that_changes_nothing_records_nothing() -> None:
    s = await Settings().start()
    await s.change(auto_cancel_unpaid_hours=48)

    again = await s.change(auto_cancel_unpaid_hours=48, segment_rules={})
    empty = await s.change()

    assert again.version == empty.version == 2
    assert await s.events() == ["Started", "TenantSettingsChanged"]


async def test_an_empty_patch_of_a_tenant_that_never_changed_anything_records_nothing() -> None:
    s = await Settings().start()

    view = await s.change()

    assert view.version == 0
    assert view.updated_by is None
    assert await s.events() == []


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"reservation_minutes": 0}, "reservation_minutes"),
        ({"reservation_minutes": 10081}, "reservation_minutes"),
        ({"reservation_minutes": "45"}, "reservation_minutes"),
        ({"auto_cancel_unpaid_hours": -1}, "auto_cancel_unpaid_hours"),
        ({"refund_approval_threshold": 10**13 + 1}, "refund_approval_threshold"),
        ({"default_currency": "usd"}, "default_currency"),
        ({"default_currency": "XYZ"}, "default_currency"),
        ({"accepted_currencies": ["EUR", "EUR"]}, "accepted_currencies"),
        ({"accepted_currencies": ["EUR"]}, "default_currency"),  # USD, the default, not in it
        ({"segment_rules": {"vip_min_orders": -1}}, "segment_rules.vip_min_orders"),
        ({"segment_rules": {"colour": 1}}, "segment_rules.colour"),
        ({"rate_limits": {"checkout_per_minute": 1}}, "rate_limits"),
        ({"fee_tier": "enterprise"}, "fee_tier"),
    ],
)
async def test_an_invalid_change_names_its_field_and_records_nothing(
    patch: dict[str, Any], field: str
) -> None:
    s = await Settings().start()

    with pytest.raises(InvalidSettingError) as refused:
        await change_settings(s.services, ADMIN, parse_patch(patch))

    assert refused.value.field == field
    assert await s.stored() == TenantSettings()
    assert await s.events() == []


async def test_null_puts_a_field_back_to_its_default() -> None:
    s = await Settings().start()
    await s.change(refund_approval_threshold=5_000, segment_rules={"at_risk_after_days": 7})

    view = await s.change(
        refund_approval_threshold=None, segment_rules={"at_risk_after_days": None}
    )

    assert view.settings.refund_approval_threshold == 100_000
    assert view.settings.segment_rules.at_risk_after_days == 90


async def test_currencies_are_accepted_with_a_default_among_them() -> None:
    s = await Settings().start()

    view = await s.change(default_currency="EUR", accepted_currencies=["EUR", "GBP"])

    assert view.settings.default_currency == "EUR"
    assert (await s.stored()).accepted_currencies == ("EUR", "GBP")


async def test_operator_settings_and_the_other_tenant_are_left_as_they_are() -> None:
    s = await Settings(TenantSettings(fee_tier=FeeTier.ENTERPRISE)).start()

    await s.change(reservation_minutes=5)

    assert (await s.stored()).fee_tier is FeeTier.ENTERPRISE
    assert await s.stored(OTHER_ID) == TenantSettings()


async def test_the_first_change_keeps_the_values_set_before_the_stream() -> None:
    s = await Settings(TenantSettings(refund_approval_threshold=7)).start()

    view = await s.change(reservation_minutes=5)

    assert view.settings.refund_approval_threshold == 7
    assert (await s.stored()).refund_approval_threshold == 7


async def test_two_changes_racing_are_both_applied() -> None:
    s = await Settings().start()

    await asyncio.gather(s.change(reservation_minutes=5), s.change(auto_cancel_unpaid_hours=2))

    stored = await s.stored()
    assert (stored.reservation_minutes, stored.auto_cancel_unpaid_hours) == (5, 2)
    assert await s.events() == ["Started", "TenantSettingsChanged", "TenantSettingsChanged"]


async def test_an_expected_version_that_is_not_the_current_one_is_refused() -> None:
    s = await Settings().start()
    await s.change(reservation_minutes=5)

    with pytest.raises(ConcurrencyError):
        await change_settings(
            s.services, ADMIN, SettingsPatch(reservation_minutes=6), expected_version=1
        )
    view = await change_settings(
        s.services, ADMIN, SettingsPatch(reservation_minutes=6), expected_version=2
    )

    assert view.version == 3


async def test_a_document_write_that_did_not_happen_is_made_by_the_next_show() -> None:
    s = await Settings().start()
    await s.change(reservation_minutes=5)
    # as if the process stopped between the append and the document's write
    await s.tenants.update_settings(TENANT_ID, TenantSettings())
    s.tenants._tenants[TENANT_ID] = msgspec.structs.replace(
        s.tenants._tenants[TENANT_ID], settings_version=0
    )

    view = await show_settings(s.services, TENANT_ID)

    assert view.settings.reservation_minutes == 5
    assert (await s.stored()).reservation_minutes == 5


async def test_history_is_paginated_newest_first() -> None:
    s = await Settings().start()
    for minutes in range(1, 6):
        s.clock.advance(timedelta(minutes=1))
        await change_settings(
            s.services,
            CommandContext(tenant_id=str(TENANT_ID), actor=CLI_ACTOR),
            SettingsPatch(reservation_minutes=minutes),
        )

    first = await settings_history(s.repo, TENANT_ID, limit=2)
    second = await settings_history(s.repo, TENANT_ID, limit=2, before=first.next_before)
    third = await settings_history(s.repo, TENANT_ID, limit=2, before=second.next_before)

    news = [r.changes[0].new for page in (first, second, third) for r in page.items]
    assert news == [5, 4, 3, 2, 1]
    assert third.next_before is None
    assert {r.actor for r in first.items} == {CLI_ACTOR}
    assert (await settings_history(s.repo, OTHER_ID, limit=10)).items == []


minutes = st.integers(min_value=1, max_value=10080)
rules = st.fixed_dictionaries(
    {},
    optional={
        "vip_min_orders": st.integers(0, 1000) | st.none(),
        "at_risk_after_days": st.integers(0, 1000) | st.none(),
    },
)
patches = st.fixed_dictionaries(
    {},
    optional={
        "reservation_minutes": minutes | st.none(),
        "auto_cancel_unpaid_hours": st.integers(1, 8760) | st.none(),
        "refund_approval_threshold": st.integers(0, 10**13) | st.none(),
        "segment_rules": rules | st.none(),
    },
)


@given(st.lists(patches, max_size=5))
def test_replaying_the_changes_over_the_first_values_gives_the_settings(
    sequence: list[dict[str, Any]],
) -> None:
    settings = TenantSettings()
    values = msgspec.to_builtins(settings)
    for patch in sequence:
        changed = apply_patch(settings, parse_patch(patch))
        for change in changes_of(settings, changed):
            *parents, leaf = change.field.split(".")
            target = values
            for parent in parents:
                target = target[parent]
            assert target[leaf] == change.old
            target[leaf] = change.new
        settings = changed
        assert msgspec.convert(values, TenantSettings) == settings
    assert changes_of(settings, apply_patch(settings, SettingsPatch())) == []
