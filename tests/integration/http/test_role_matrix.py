"""The role matrix, route by route, over HTTP on PostgreSQL (ADR 0019).

The routes come from the app itself: a route that no group of
``entrypoints/http/roles.py`` names fails ``test_every_route_of_the_app_has_a_rule``,
and answers 403 to every key until it gets one. Each route is then called with a key
of each role: a role outside the route's group gets 403 ``forbidden``; a role inside
gets past the guard (any answer but 401/403: ids here are random, so mostly 404/422).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, get

from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.app import create_app
from entrypoints.http.roles import GROUPS, ROUTES, matrix_rows, role_guard
from entrypoints.settings import Settings
from tests.integration.http.conftest import Api, bearer

PROBLEM = "https://commerce-core.dev/problems/"
README = Path(__file__).resolve().parents[3] / "README.md"
_PROBES = ("/api/v1/_test", "/api/v1/webhooks/_test")  # the test app's own routes
_PARAMETERS = {"gateway": "stripe", "day": "2026-01-01", "path": "openapi.yaml"}
_SKIPPED_METHODS = {"HEAD", "OPTIONS"}


def app_routes(app: Litestar) -> set[str]:
    """Every ``METHOD /path`` the app answers, as the matrix names them."""
    return {
        f"{method} {route.path_format}"
        for route in app.routes
        for method in getattr(route, "methods", ())
        if method not in _SKIPPED_METHODS and not route.path_format.startswith(_PROBES)
    }


def concrete(path: str) -> str:
    """The path with each parameter filled in (a random id, or a plausible word)."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("_id") and name not in ("seller_id",):
            return str(uuid.uuid4())
        return _PARAMETERS.get(name, "nothing-here")

    return re.sub(r"\{([a-z_]+)\}", fill, path)


def test_every_route_of_the_app_has_a_rule() -> None:
    app = create_app(dataclasses.replace(Settings.from_env(), event_store="memory"))

    routes = app_routes(app)

    assert routes - set(ROUTES) == set(), "routes without a rule in entrypoints/http/roles.py"
    assert set(ROUTES) - routes == set(), "rules for routes the app does not have"


def test_a_new_route_without_a_rule_is_found() -> None:
    @get("/api/v1/brand-new")
    async def brand_new() -> None: ...

    app = create_app(dataclasses.replace(Settings.from_env(), event_store="memory"))
    app.register(brand_new)

    assert "GET /api/v1/brand-new" in app_routes(app) - set(ROUTES)


@pytest.fixture
async def keys(api: Api) -> dict[Role, str]:
    tenant, admin = await api.tenant("acme")
    return {
        Role.OPERATOR: await api.operator_key(),
        Role.ADMIN: admin,
        Role.STAFF: await api.key(tenant, Role.STAFF),
        Role.SERVICE: await api.key(tenant, Role.SERVICE),
    }


async def test_each_role_gets_exactly_the_routes_of_its_groups(
    api: Api, keys: dict[Role, str]
) -> None:
    seen = []
    for route in sorted(app_routes(api.app)):
        group = ROUTES[route]
        method, path = route.split(" ", 1)
        if not group.roles:  # public: no key needed, none refused
            answer = await api.client.request(method, concrete(path))
            assert answer.status_code not in (401, 403), (route, answer.text)
            continue
        for role, key in keys.items():
            answer = await api.client.request(method, concrete(path), headers=bearer(key))
            if role in group.roles:
                assert answer.status_code not in (401, 403), (route, role, answer.text)
            else:
                assert answer.status_code == 403, (route, role, answer.text)
                assert answer.json()["type"] == PROBLEM + "forbidden", (route, role)
            seen.append((route, role))
        anonymous = await api.client.request(method, concrete(path))
        assert anonymous.status_code == 401, (route, anonymous.text)
    assert len(seen) == 4 * sum(1 for r in app_routes(api.app) if ROUTES[r].roles)


async def test_the_guard_refuses_an_unruled_route_of_the_api(api: Api) -> None:
    @get("/api/v1/unruled", guards=[role_guard])
    async def unruled() -> dict[str, Any]:
        return {}

    api.app.register(unruled)
    tenant, admin = await api.tenant("acme")

    for key in (admin, await api.operator_key(), await api.key(tenant, Role.STAFF)):
        answer = await api.client.get("/api/v1/unruled", headers=bearer(key))
        assert answer.status_code == 403, answer.text
        assert "no rule" in answer.json()["detail"]


def test_the_readme_shows_the_matrix_as_the_code_has_it() -> None:
    roles = [Role.OPERATOR, Role.ADMIN, Role.STAFF, Role.SERVICE]
    header = "| Route group | " + " | ".join(r.value for r in roles) + " |"
    rows = [
        f"| {name} | " + " | ".join("yes" if allowed[r] else "-" for r in roles) + " |"
        for name, allowed in matrix_rows()
        if any(allowed.values())
    ]

    text = README.read_text()

    assert header in text
    for row in rows:
        assert row in text, row
    assert len(GROUPS) == len(rows) + sum(1 for g in GROUPS if not g.roles)
