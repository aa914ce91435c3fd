"""A tenant's own settings (admin keys; ADR 0024).

- ``GET /admin/settings``: the settings, their ``version`` and the last change's
  ``updated_at`` / ``updated_by``; the ``ETag`` is the version.
- ``PATCH /admin/settings``: a JSON merge patch of them (absent: stays, ``null``: the
  default); validated, each real change recorded with who and when, a no-op records
  nothing. ``If-Match: "<version>"`` refuses the change with 409
  ``concurrency-conflict`` when the settings changed meanwhile; without it, changes
  racing each other are all applied.
- ``GET /admin/settings/history?limit=&cursor=``: the changes, newest first.

Fee terms and rate limits are the operators' (``/admin/tenants/{id}/fee-tiers``, the
CLI): they are neither shown nor changed here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, patch
from litestar.di import NamedDependency
from litestar.params import Body, HeaderParameter, QueryParameter

from commerce_core.customers.segments import SegmentRules
from commerce_core.shared.context import CommandContext
from commerce_core.tenancy.ports.tenants import Role
from commerce_core.tenancy.settings_changes import (
    SettingsServices,
    SettingsView,
    change_settings,
    settings_history,
    show_settings,
)
from commerce_core.tenancy.settings_patch import SettingsPatch
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, example_body, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services

PATCH_EXAMPLE = Body(
    examples=example_body(
        (
            "Hold stock 45 minutes; VIPs from 5 orders",
            {"reservation_minutes": 45, "segment_rules": {"vip_min_orders": 5}},
        ),
        (
            "Take EUR and GBP, EUR by default; approvals above 500.00",
            {
                "default_currency": "EUR",
                "accepted_currencies": ["EUR", "GBP"],
                "refund_approval_threshold": 50_000,
            },
        ),
        ("Back to the default auto-cancel time", {"auto_cancel_unpaid_hours": None}),
    )
)


class SettingsOut(msgspec.Struct):
    """The tenant's settings; ``version`` 0: never changed through this API or the CLI."""

    reservation_minutes: Annotated[
        int, msgspec.Meta(description="How long POST /orders holds stock for an unpaid order.")
    ]
    auto_cancel_unpaid_hours: Annotated[
        int, msgspec.Meta(description="Unpaid card orders are cancelled after this long.")
    ]
    refund_approval_threshold: Annotated[
        int,
        msgspec.Meta(
            description="Minor units of the refunded order's own currency, whichever it is:"
            " refunds by staff or service keys that take an order's refunds above it wait"
            " for an admin's approval."
        ),
    ]
    default_currency: Annotated[
        str, msgspec.Meta(description="The currency of an order that names none.")
    ]
    accepted_currencies: Annotated[
        list[str],
        msgspec.Meta(description="The only currencies orders may be in; empty: any."),
    ]
    segment_rules: SegmentRules
    version: int
    updated_at: datetime | None
    updated_by: Annotated[str | None, msgspec.Meta(description="`key:<api key id>` or `cli`.")]


class SettingChangeOut(msgspec.Struct):
    field: str
    old: Any
    new: Any


class SettingsChangeOut(msgspec.Struct):
    version: int
    at: datetime
    actor: str
    role: Role | None
    changes: list[SettingChangeOut]


class SettingsHistoryOut(msgspec.Struct):
    items: list[SettingsChangeOut]
    next_cursor: str | None


def _services(services: Services) -> SettingsServices:
    return SettingsServices(repo=services.repo, tenants=services.tenants, clock=services.clock)


def _answer(view: SettingsView) -> Response[SettingsOut]:
    s = view.settings
    body = SettingsOut(
        reservation_minutes=s.reservation_minutes,
        auto_cancel_unpaid_hours=s.auto_cancel_unpaid_hours,
        refund_approval_threshold=s.refund_approval_threshold,
        default_currency=s.default_currency,
        accepted_currencies=list(s.accepted_currencies),
        segment_rules=s.segment_rules,
        version=view.version,
        updated_at=view.updated_at,
        updated_by=view.updated_by,
    )
    return Response(body, headers={"ETag": f'"{view.version}"'})


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 9:
        raise problem(
            422, "validation-error", 'If-Match takes the ETag of GET /admin/settings, e.g. "3"'
        )
    return int(tag)


def _before(cursor: str | None) -> int | None:
    if not cursor:
        return None
    if not cursor.isdigit() or len(cursor) > 9:
        raise problem(422, "validation-error", "cursor is not one this API returned")
    return int(cursor)


class SettingsController(Controller):
    path = "/admin/settings"
    tags = ["admin"]

    @get("/", summary="Show the tenant's settings", responses=query_problems("forbidden"))
    async def show(
        self, services: NamedDependency[Services], principal: NamedDependency[Principal]
    ) -> Response[SettingsOut]:
        """The tenant's settings (admin keys), with their version (also the `ETag`) and who
        changed them last, when. Changes nothing."""
        return _answer(await show_settings(_services(services), principal.tenant_id))

    @patch(
        "/",
        summary="Change the tenant's settings",
        responses=command_problems("forbidden", "concurrency-conflict"),
    )
    async def change(
        self,
        data: Annotated[SettingsPatch, PATCH_EXAMPLE],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        ctx: NamedDependency[CommandContext],
        if_match: Annotated[
            str | None,
            HeaderParameter(
                name="If-Match",
                max_length=40,
                description='The version it changes, e.g. "3" (the ETag of GET): another'
                " one answers 409 concurrency-conflict.",
            ),
        ] = None,
    ) -> Response[SettingsOut]:
        """Changes the tenant's settings (admin keys) by a JSON merge patch: a field left out
        stays, `null` puts it back to its default, `segment_rules` is merged field by field.
        Each change is recorded (GET /admin/settings/history) and applies from the next
        request; a patch that changes nothing records nothing. Unknown fields, wrong types
        and values out of bounds: 422 naming the field, nothing changed."""
        view = await change_settings(
            _services(services),
            ctx,
            data,
            role=principal.role.value,
            expected_version=_version(if_match),
        )
        return _answer(view)

    @get(
        "/history",
        summary="List the changes of the tenant's settings",
        responses=query_problems("forbidden"),
    )
    async def history(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=20)] = None,
    ) -> SettingsHistoryOut:
        """The changes of the tenant's settings (admin keys), newest first: who (`key:<id>`
        or `cli`, and the key's role), when, and each field's old and new value. Changes
        nothing."""
        tenant_id: UUID = principal.tenant_id
        page = await settings_history(services.repo, tenant_id, limit, _before(cursor))
        return SettingsHistoryOut(
            items=[
                SettingsChangeOut(
                    version=r.version,
                    at=r.at,
                    actor=r.actor,
                    role=Role(r.role) if r.role is not None else None,
                    changes=[SettingChangeOut(c.field, c.old, c.new) for c in r.changes],
                )
                for r in page.items
            ],
            next_cursor=str(page.next_before) if page.next_before is not None else None,
        )
