"""POS connections (role admin, ADR 0037): a tenant's Square account (or the built-in
``fake``), the state of each connection's order pull, and a forced pull. Secrets are
write-only: stored sealed, never returned. Oversells (ADR 0040): listed and resolved."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, Parameter

from commerce_core.channels.connections import (
    MAX_NOTE,
    ConnectPos,
    Oversell,
    PosConnection,
    PosDetails,
    PosName,
    PosSecrets,
    ResolveOversell,
    SyncState,
    connect_pos,
    resolve_oversell,
)
from commerce_core.channels.oauth import (
    OAuthCallback,
    OAuthServices,
    finish_oauth,
    start_oauth,
)
from commerce_core.processes.pos_sync import SyncSummary, sync_pos
from entrypoints.channel_sync import pos_import_services
from entrypoints.http.api import examples
from entrypoints.http.auth import Principal
from entrypoints.http.openapi import command_problems, example_body, query_problems
from entrypoints.http.problems import problem
from entrypoints.http.services import Services

_Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class PosConnectionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``location_map``: each POS location id pulled -> our location id whose stock its
    sales take (Clover: the merchant id is the one location). ``item_map`` (optional): POS
    item (variation) id -> our SKU, for lines that do not carry our SKU. ``merchant_id``:
    the POS account's id, needed for its webhooks (``POST /webhooks/square``,
    ``/webhooks/clover``) to reach this connection; Clover needs it. ``access_token``
    (write-only) unless OAuth gives it (``POST /admin/channels/{pos}/oauth``; storing the
    connection again without one keeps OAuth's). ``signature_key`` (write-only): Square's
    webhook signature key (needed), Clover's auth code (once Clover shows it). The fake
    needs none."""

    location_map: Annotated[dict[_Id, _Id], msgspec.Meta(min_length=1, max_length=100)]
    item_map: Annotated[dict[_Id, _Id], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=dict
    )
    enabled: bool = True
    access_token: _Secret | None = None
    signature_key: _Secret | None = None
    merchant_id: _Id | None = None


CONNECTION = Body(
    examples=example_body(
        (
            "Square, one shop",
            {
                "access_token": "EAAA-your-square-access-token",
                "signature_key": "your-webhook-signature-key",
                "location_map": {"LH2G4W1EXAMPLE": "main"},
                "item_map": {"W62UWFY35CWMYGVWK6TWJDNI": "TEE-BLUE-M"},
                "merchant_id": "ML2F8EXAMPLE",
            },
        ),
        (
            "Clover, one merchant",
            {
                "access_token": "your-clover-api-token",
                "merchant_id": "MZ4X9EXAMPLE1",
                "location_map": {"MZ4X9EXAMPLE1": "main"},
                "item_map": {"9ZXNAEXAMPLE2": "TEE-BLUE-M"},
            },
        ),
        ("The built-in test POS", {"location_map": {"L1": "main"}}),
    )
)


class ChannelOut(msgspec.Struct, kw_only=True):
    """A connection without its secrets, and where its order pull is. `verification_code`:
    the code Clover last sent to verify the webhook URL (paste it into Clover's dashboard);
    `token_expires_at`: when the access token OAuth gave expires (refreshed before then)."""

    pos: PosName
    enabled: bool
    state: SyncState
    configured_at: datetime
    location_map: dict[str, str]
    item_map: dict[str, str]
    merchant_id: str | None
    cursor: str | None
    last_synced_at: datetime | None
    lag_seconds: int | None
    last_error: str | None
    failures: int
    next_attempt_at: datetime | None
    oversells: int
    verification_code: str | None = None
    token_expires_at: datetime | None = None

    @classmethod
    def of(cls, connection: PosConnection, now: datetime) -> ChannelOut:
        sync = connection.sync
        lag = None if sync.last_synced_at is None else (now - sync.last_synced_at)
        return cls(
            pos=connection.pos,
            enabled=connection.enabled,
            state=connection.state(),
            configured_at=connection.configured_at,
            location_map=dict(connection.details.location_map),
            item_map=dict(connection.details.item_map),
            merchant_id=connection.details.merchant_id,
            cursor=sync.cursor,
            last_synced_at=sync.last_synced_at,
            lag_seconds=None if lag is None else max(int(lag.total_seconds()), 0),
            last_error=sync.last_error,
            failures=sync.failures,
            next_attempt_at=sync.next_attempt_at,
            oversells=sync.oversells,
            verification_code=connection.verification_code,
            token_expires_at=connection.secrets.expires_at,
        )


class ChannelList(msgspec.Struct, kw_only=True):
    items: list[ChannelOut]


class SyncOut(msgspec.Struct, kw_only=True):
    """What a forced pull did: POS orders imported as new orders, updates applied,
    repeats that changed nothing, sales flagged as oversells, orders skipped (pushed by
    us, at an unmapped location, cancelled before import), and the cursor stored."""

    pos: PosName
    imported: int
    updated: int
    unchanged: int
    oversold: int
    skipped: int
    cursor: str | None

    @classmethod
    def of(cls, pos: PosName, summary: SyncSummary) -> SyncOut:
        return cls(pos=pos, **msgspec.structs.asdict(summary))


class ResolutionOut(msgspec.Struct, kw_only=True):
    note: str
    by: str
    at: datetime


class OversellOut(msgspec.Struct, kw_only=True):
    """A POS sale of units we did not have: recorded, not imported as an order, open
    until a person resolves it (`resolution` null while open)."""

    external_id: str
    location_id: str
    detail: str
    recorded_at: datetime
    resolution: ResolutionOut | None

    @classmethod
    def of(cls, oversell: Oversell) -> OversellOut:
        done = oversell.resolution
        return cls(
            external_id=oversell.external_id,
            location_id=oversell.location_id,
            detail=oversell.detail,
            recorded_at=oversell.recorded_at,
            resolution=None
            if done is None
            else ResolutionOut(note=done.note, by=done.by, at=done.at),
        )


class OversellList(msgspec.Struct, kw_only=True):
    items: list[OversellOut]


class ResolveIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What was done about the sale (stock found and counted, written off...)."""

    note: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NOTE)]


class OAuthStartOut(msgspec.Struct, kw_only=True):
    """Send the account owner's browser to `authorize_url`; the POS sends it back to the
    app's redirect URL with `code` and `state`, to pass to the callback within 10 minutes."""

    authorize_url: str
    state: str


_Param = Annotated[str, msgspec.Meta(min_length=1, max_length=512, pattern=r"^[A-Za-z0-9_.~-]+$")]


def _oauth(request: Request[Any, Any, Any], services: Services, pos: PosName) -> OAuthServices:
    container = request.app.state.container
    app = container.pos_oauth_apps().for_pos(str(pos))
    if app is None:
        raise problem(
            422, "oauth-not-configured", f"this platform has no OAuth app at {pos}: store a token"
        )
    return OAuthServices(
        connections=container.pos_connections(),
        states=container.pos_oauth_states(),
        oauth=app,
        clock=services.clock,
    )


def _pos(name: str, status: int) -> PosName:
    try:
        return PosName(name)
    except ValueError:
        known = ", ".join(str(p) for p in PosName)
        slug = "not-found" if status == 404 else "validation-error"
        raise problem(status, slug, f"no POS {name!r} (one of {known})") from None


class ChannelsAdminController(Controller):
    path = "/admin/channels"
    tags = ["admin"]

    @put(
        "/{pos:str}",
        status_code=200,
        summary="Connect a point of sale",
        responses=command_problems("forbidden"),
    )
    async def connect(
        self,
        pos: FromPath[str],
        data: Annotated[PosConnectionIn, CONNECTION],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> ChannelOut:
        """Stores (replaces) the tenant's connection to `square`, `clover` or `fake`
        (admin); its orders are then pulled in the background. `access_token` and
        `signature_key` are stored encrypted and never returned. Storing it again keeps the
        pull's cursor (and an OAuth token when none is given) and starts a dead-lettered
        pull again. 422 when Square's signature key or Clover's merchant id is missing."""
        name = _pos(pos, 422)
        command = ConnectPos(
            pos=name,
            enabled=data.enabled,
            details=PosDetails(
                location_map=data.location_map,
                item_map=data.item_map,
                merchant_id=data.merchant_id,
            ),
            secrets=PosSecrets(
                access_token=data.access_token or "", signature_key=data.signature_key or ""
            ),
        )
        container = request.app.state.container
        connection = await connect_pos(
            container.pos_connections(), services.clock, principal.tenant_id, command
        )
        return ChannelOut.of(connection, services.clock.now())

    @get("/", summary="List POS connections", responses=query_problems("forbidden"))
    async def list_channels(
        self,
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> ChannelList:
        """The tenant's POS connections without their secrets (admin): each one's state
        (`active`, `backing_off`, `dead_letter`, `disabled`), cursor, last sync, lag,
        last error and the number of oversells recorded."""
        connections = request.app.state.container.pos_connections()
        now = services.clock.now()
        found = await connections.of_tenant(principal.tenant_id)
        return ChannelList(items=[ChannelOut.of(c, now) for c in found])

    @post(
        "/{pos:str}/sync",
        status_code=200,
        summary="Pull a point of sale's orders now",
        responses=command_problems(
            "forbidden", "not-found", "pos-not-connected", "pos-unavailable", "pos-refused"
        ),
    )
    async def sync(
        self,
        pos: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> SyncOut:
        """Pulls the connection's changed orders now, whatever its backoff (admin): new
        POS orders become orders on channel `pos`, later versions apply refunds and
        cancellations, sales beyond our stock are flagged as oversells. Answers what it
        did. 422 `pos-not-connected`, 503 `pos-unavailable` (retry), 422 `pos-refused`."""
        name = _pos(pos, 404)
        container = request.app.state.container
        summary = await sync_pos(
            pos_import_services(container),
            container.pos_resolver().pos_for,
            principal.tenant_id,
            name,
        )
        return SyncOut.of(name, summary)

    @get(
        "/{pos:str}/oversells",
        summary="List a point of sale's oversells",
        responses=query_problems("forbidden", "not-found"),
    )
    async def oversells(
        self,
        pos: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        open_only: bool = True,
    ) -> OversellList:
        """The connection's oversells, newest first (admin): POS sales of units our stock
        did not have at the mapped location, recorded instead of imported. Open ones only
        unless `open_only=false` (then resolved ones too, with their resolution); at most
        500. `GET /admin/channels` counts the open ones."""
        name = _pos(pos, 404)
        connections = request.app.state.container.pos_connections()
        found = await connections.oversells_of(principal.tenant_id, name, open_only)
        return OversellList(items=[OversellOut.of(o) for o in found])

    @post(
        "/{pos:str}/oversells/{external_id:str}/resolve",
        status_code=200,
        summary="Resolve an oversell",
        responses=command_problems("forbidden", "not-found"),
    )
    async def resolve(
        self,
        pos: FromPath[str],
        external_id: FromPath[str],
        data: Annotated[ResolveIn, examples.OVERSELL_RESOLUTION],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> OversellOut:
        """Closes an open oversell with a note of what was done (admin); it is no longer
        counted at `GET /admin/channels`. Resolving it again answers the first resolution,
        unchanged. 404 when the connection recorded no oversell of that POS order."""
        name = _pos(pos, 404)
        command = ResolveOversell(
            pos=name, external_id=external_id, note=data.note, by=f"key:{principal.key_id}"
        )
        connections = request.app.state.container.pos_connections()
        resolved = await resolve_oversell(connections, services.clock, principal.tenant_id, command)
        return OversellOut.of(resolved)

    @post(
        "/{pos:str}/oauth",
        status_code=200,
        summary="Start connecting a point of sale account by OAuth",
        responses=command_problems(
            "forbidden", "not-found", "pos-not-connected", "oauth-not-configured"
        ),
    )
    async def start_oauth(
        self,
        pos: FromPath[str],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
    ) -> OAuthStartOut:
        """Answers the URL to send the POS account's owner to (admin), and the `state`
        that comes back with their grant: bound to this tenant and POS, usable once, for 10
        minutes. The connection must be stored first (`PUT /admin/channels/{pos}`: its
        location map); the callback adds the token. 422 `pos-not-connected`,
        `oauth-not-configured` (no platform app at this POS)."""
        name = _pos(pos, 404)
        oauth = _oauth(request, services, name)
        state = secrets.token_urlsafe(32)
        url = await start_oauth(oauth, principal.tenant_id, str(name), state)
        return OAuthStartOut(authorize_url=url, state=state)


class ChannelsOAuthController(Controller):
    """Where the account owner's grant is finished (admin: the tenant's admin client
    receives the POS's redirect and passes `code` and `state` on with its key)."""

    path = "/channels"
    tags = ["admin"]

    @get(
        "/{pos:str}/oauth/callback",
        summary="Finish connecting a point of sale account by OAuth",
        responses=query_problems(
            "forbidden",
            "not-found",
            "invalid-oauth-state",
            "oauth-denied",
            "oauth-not-configured",
            "pos-not-connected",
            "pos-refused",
            "pos-unavailable",
        ),
    )
    async def callback(
        self,
        pos: FromPath[str],
        services: NamedDependency[Services],
        principal: NamedDependency[Principal],
        request: Request[Any, Any, Any],
        oauth_state: Annotated[_Param, Parameter(query="state")],
        code: Annotated[_Param | None, Parameter(query="code")] = None,
        error: Annotated[_Param | None, Parameter(query="error")] = None,
    ) -> ChannelOut:
        """Exchanges the grant's `code` for tokens and stores them encrypted on the
        connection (never returned; refreshed by the sync before they expire); answers the
        connection. The `state` is taken once, whatever the outcome. 400
        `invalid-oauth-state` (unknown, used, expired, another tenant's or POS's), 400
        `oauth-denied` (the callback carries `error`, e.g. `access_denied`), 422
        `pos-refused` (the POS refused the code), 503 `pos-unavailable`: nothing stored."""
        name = _pos(pos, 404)
        oauth = _oauth(request, services, name)
        callback = OAuthCallback(state=oauth_state, code=code, error=error)
        connection = await finish_oauth(oauth, principal.tenant_id, str(name), callback)
        return ChannelOut.of(connection, services.clock.now())
