"""GET /admin/projections and POST /admin/projections/{name}/rebuild (role admin)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from litestar import Controller, Litestar, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from commerce_core.tenancy.ports.tenants import Role
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import tenant_of
from entrypoints.projection_ops import (
    NotStartedError,
    ProjectionInfo,
    ProjectionOps,
    RebuildRunningError,
    UnknownProjectionError,
    build_projection_ops,
)


def provide_projection_ops(request: Request[Any, Any, Any]) -> ProjectionOps:
    """The app's projection operations, made on first use from its container.

    The app's lifespan should ``await close_projection_ops(app.state)`` before the
    pool closes, so that a rebuild still running is cancelled cleanly.
    """
    return projection_ops(request.app)


def projection_ops(app: Litestar) -> ProjectionOps:
    """The app's ``ProjectionOps``, made on first use from its container."""
    state = app.state
    ops: ProjectionOps | None = state.get("projection_ops")
    if ops is None:
        ops = build_projection_ops(state.container)
        state.projection_ops = ops
    return ops


async def close_projection_ops(state: Any) -> None:
    """Cancels the rebuilds this app started (for the app's shutdown)."""
    ops: ProjectionOps | None = state.get("projection_ops")
    if ops is not None:
        await ops.close()


class RebuildAccepted(msgspec.Struct):
    name: str
    version: int
    status: Literal["started"]
    progress: str


class ProjectionsAdminController(Controller):
    """Projections are shared by all tenants: operators run them; a tenant's admin sees
    how they stand for its own data."""

    path = "/admin/projections"
    tags = ["admin"]
    dependencies = {"ops": Provide(provide_projection_ops, sync_to_thread=False)}

    @get("/", summary="List projections", responses=query_problems("forbidden"))
    async def list_projections(
        self, ops: NamedDependency[ProjectionOps], principal: NamedDependency[Principal]
    ) -> list[ProjectionInfo]:
        """Each projection version as the caller's tenant sees it: position, lag, and
        status, ``degraded`` while events of this tenant are quarantined (``quarantined``
        of them; ``errors`` are the ones that failed). Only this tenant's quarantine is
        shown; operators see every tenant's."""
        if principal.role is Role.OPERATOR:
            return await ops.statuses()
        return await ops.statuses(tenant_of(principal))

    @post(
        "/{name:str}/rebuild",
        summary="Rebuild a projection",
        status_code=202,
        responses=command_problems(
            "forbidden", "not-found", "projection-not-started", "rebuild-running"
        ),
    )
    async def rebuild(
        self, name: FromPath[str], ops: NamedDependency[ProjectionOps]
    ) -> RebuildAccepted:
        """Rebuilds the projection from the first event into new tables while the old ones
        keep serving, then swaps them in; follow it with GET /admin/projections."""
        try:
            projection = ops.projection(name)
            await ops.start_rebuild(name)
        except UnknownProjectionError:
            raise problem(404, "not-found", f"no projection {name!r}") from None
        except NotStartedError as error:
            raise problem(409, "projection-not-started", str(error)) from None
        except RebuildRunningError as error:
            raise problem(409, "rebuild-running", str(error)) from None
        return RebuildAccepted(
            name=projection.name,
            version=projection.version,
            status="started",
            progress="/api/v1/admin/projections",
        )
