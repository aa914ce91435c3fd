"""Route guards are coroutine functions: litestar runs a plain function guard in its
thread pool, one hand-off per request (found by bench/http.py's profile, ADR 0044)."""

from __future__ import annotations

import inspect

from litestar.utils.sync import ensure_async_callable

from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.auth import requires_role
from entrypoints.http.roles import role_guard


def test_the_role_matrix_guard_runs_on_the_event_loop() -> None:
    assert inspect.iscoroutinefunction(role_guard)
    wrapped: object = ensure_async_callable(role_guard)
    assert wrapped is role_guard  # not wrapped to run in a thread


def test_a_requires_role_guard_runs_on_the_event_loop() -> None:
    guard = requires_role(Role.STAFF)

    assert inspect.iscoroutinefunction(guard)
    wrapped: object = ensure_async_callable(guard)
    assert wrapped is guard
