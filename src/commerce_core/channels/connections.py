"""Per-tenant POS connections and the state of their order pull (ADR 0037).

``PUT /admin/channels/{pos}`` stores a tenant's connection: its secrets (the access token
and the webhook signature key) sealed at rest by the store and never returned; what may
be shown in ``details``: the ``location_map`` (POS location id -> our location id, the
only POS locations pulled) and the ``item_map`` (POS item id -> our SKU, for lines that
do not carry our SKU). Each connection keeps the state of its pull: the cursor stored
after a batch is applied, when it last synced, the last error, how many pulls failed in
a row, when to try again, and the oversells it recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Protocol
from uuid import UUID

import msgspec

from commerce_core.eventstore.records import Position
from commerce_core.shared.errors import DomainError, InvalidValueError
from commerce_core.shared.ports.clock import Clock


class PosName(StrEnum):
    SQUARE = "square"
    CLOVER = "clover"
    FAKE = "fake"


class SyncState(StrEnum):
    """``active``: pulled on schedule; ``backing_off``: the last pulls failed, the next
    waits; ``dead_letter``: too many failures in a row, not pulled until the connection
    is stored again or a pull is forced; ``disabled``: ``enabled: false``."""

    ACTIVE = "active"
    BACKING_OFF = "backing_off"
    DEAD_LETTER = "dead_letter"
    DISABLED = "disabled"


MAX_FAILURES = 8
"""Failed pulls in a row after which a connection is dead-lettered."""
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
MAX_MAPPED = 200
LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)

_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class PosSecrets(msgspec.Struct, frozen=True, kw_only=True):
    """The connection's secrets; ``repr`` hides them so logs never show them.

    ``signature_key`` is what proves a webhook is the POS's: Square's signature key, Clover's
    auth code (``X-Clover-Auth``). ``refresh_token`` and ``expires_at`` are set when the
    access token came from OAuth (``POST /admin/channels/{pos}/oauth``)."""

    access_token: str = ""
    signature_key: str = ""
    refresh_token: str = ""
    expires_at: datetime | None = None

    def __repr__(self) -> str:
        return "PosSecrets(access_token=***, signature_key=***)"

    def __str__(self) -> str:
        return repr(self)


class PosDetails(msgspec.Struct, frozen=True, kw_only=True):
    """What may be shown of a connection."""

    location_map: dict[_Id, _Id]
    item_map: dict[_Id, _Id] = msgspec.field(default_factory=dict)
    merchant_id: str | None = None
    """The POS's id of the tenant's account: how ``POST /webhooks/square`` and
    ``/webhooks/clover`` find the connection (and its key) a delivery is for; Clover's API
    paths name it too (``/v3/merchants/{merchant_id}``)."""


class SyncStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Where a connection's pull is. ``cursor`` is the POS's opaque cursor after the last
    applied batch (None: never pulled)."""

    cursor: str | None = None
    last_synced_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    next_attempt_at: datetime | None = None
    oversells: int = 0
    counts_digest: str | None = None
    """The digest of the stock counts last pushed to the POS (``stock_push``)."""
    push_position: Position | None = None
    """The order push's checkpoint in the tenant's events (ADR 0040; None: from the start)."""
    push_since: datetime = LONG_AGO
    """When the connection was first stored: only orders placed since are pushed."""

    @property
    def dead(self) -> bool:
        return self.failures >= MAX_FAILURES


class PosConnection(msgspec.Struct, frozen=True, kw_only=True):
    """``verification_code``: the last code Clover sent to verify the webhook URL, shown
    at ``GET /admin/channels`` for the operator to paste into Clover's dashboard."""

    tenant_id: UUID
    pos: PosName
    enabled: bool
    configured_at: datetime
    details: PosDetails
    secrets: PosSecrets
    sync: SyncStatus = SyncStatus()
    verification_code: str | None = None

    def awaits_webhook_auth(self) -> bool:
        """A Clover connection without its auth code yet: Clover's verification codes
        are shown on it."""
        return self.pos is PosName.CLOVER and self.enabled and not self.secrets.signature_key

    def state(self) -> SyncState:
        if not self.enabled:
            return SyncState.DISABLED
        if self.sync.dead:
            return SyncState.DEAD_LETTER
        return SyncState.BACKING_OFF if self.sync.failures else SyncState.ACTIVE

    def due(self, at: datetime) -> bool:
        """Whether the background pull should pull this connection now."""
        if self.state() not in (SyncState.ACTIVE, SyncState.BACKING_OFF):
            return False
        return self.sync.next_attempt_at is None or self.sync.next_attempt_at <= at


class Resolution(msgspec.Struct, frozen=True, kw_only=True):
    """How a person settled an oversell (stock found, the sale written off...)."""

    note: str
    by: str
    at: datetime


class Oversell(msgspec.Struct, frozen=True, kw_only=True):
    """A POS sale of units our stock did not have: recorded once per POS order, open
    (counted at ``GET /admin/channels``) until a person resolves it with a note."""

    external_id: str
    location_id: str
    detail: str
    recorded_at: datetime
    resolution: Resolution | None = None


class PosConnections(Protocol):
    """Storage of tenants' POS connections and their pull state; secrets encrypted at rest.

    - ``put`` stores (replaces) the connection and resets its failures (not its cursor).
    - ``get`` returns it with its secrets opened, or None; ``of_tenant`` all of a tenant's.
    - ``enabled`` lists (tenant, pos) of every enabled connection, for the background pull.
    - ``with_merchant`` lists the enabled connections naming a POS account (any tenant), for
      webhooks: several tenants may claim one account; only its signature key tells.
    - ``applied`` stores the cursor after a batch; ``failed`` a failed pull.
    - ``record_oversell`` records it once per (tenant, pos, external id): True if new.
    - ``counts_pushed`` stores the digest of the stock counts last pushed.
    - ``pushed_through`` stores the order push's checkpoint.
    - ``oversells_of`` lists a connection's oversells, newest first (open ones only when
      asked); ``resolve_oversell`` resolves an open one (an already resolved one is left
      as it was and returned), None when there is none by that id. ``sync.oversells``
      counts the open ones.
    - ``verification_requested`` stores a webhook verification code on every connection of
      ``pos`` awaiting its webhook auth code (``awaits_webhook_auth``); how many.
    - ``tokens_refreshed`` replaces the secrets only (OAuth tokens), keeping everything else.
    """

    async def put(self, connection: PosConnection) -> None: ...

    async def get(self, tenant_id: UUID, pos: str) -> PosConnection | None: ...

    async def of_tenant(self, tenant_id: UUID) -> list[PosConnection]: ...

    async def enabled(self) -> list[tuple[UUID, PosName]]: ...

    async def with_merchant(self, pos: str, merchant_id: str) -> list[PosConnection]: ...

    async def applied(self, tenant_id: UUID, pos: str, cursor: str, at: datetime) -> None: ...

    async def failed(
        self, tenant_id: UUID, pos: str, error: str, at: datetime, retry_at: datetime
    ) -> None: ...

    async def record_oversell(self, tenant_id: UUID, pos: str, oversell: Oversell) -> bool: ...

    async def counts_pushed(self, tenant_id: UUID, pos: str, digest: str) -> None: ...

    async def pushed_through(self, tenant_id: UUID, pos: str, position: Position) -> None: ...

    async def oversells_of(self, tenant_id: UUID, pos: str, open_only: bool) -> list[Oversell]: ...

    async def resolve_oversell(
        self, tenant_id: UUID, pos: str, external_id: str, resolution: Resolution
    ) -> Oversell | None: ...
    async def verification_requested(self, pos: str, code: str) -> int: ...

    async def tokens_refreshed(self, tenant_id: UUID, pos: str, secrets: PosSecrets) -> None: ...


class PosNotConnectedError(DomainError):
    def __init__(self, pos: str) -> None:
        super().__init__(f"POS {pos!r} is not connected: PUT /admin/channels/{pos} first")
        self.pos = pos


class ConnectPos(msgspec.Struct, frozen=True, kw_only=True):
    pos: PosName
    details: PosDetails
    secrets: PosSecrets
    enabled: bool = True


def backoff(failures: int) -> timedelta:
    """How long to wait after ``failures`` failed pulls in a row (doubling, capped)."""
    wait: timedelta = FIRST_BACKOFF * 2 ** max(failures - 1, 0)
    return min(wait, MAX_BACKOFF)


def check_connection(command: ConnectPos) -> None:
    """Square needs its webhook signature key (the access token may come from OAuth);
    Clover its merchant id (the API's paths name it) and an access token (or OAuth); its
    auth code (``signature_key``) comes after its webhook URL is verified."""
    needed = {
        PosName.SQUARE: ("signature_key",),
        PosName.CLOVER: ("merchant_id",),
    }.get(command.pos, ())
    missing = [
        name
        for name in needed
        if not (getattr(command.secrets, name, "") or getattr(command.details, name, ""))
    ]
    if missing:
        raise InvalidValueError(f"a {command.pos} connection needs {', '.join(missing)}")
    if not command.details.location_map:
        raise InvalidValueError(
            "location_map needs at least one POS location id -> our location id"
        )
    if len(command.details.location_map) + len(command.details.item_map) > MAX_MAPPED:
        raise InvalidValueError(f"location_map and item_map hold at most {MAX_MAPPED} entries")


async def connect_pos(
    connections: PosConnections, clock: Clock, tenant_id: UUID, command: ConnectPos
) -> PosConnection:
    """``PUT /admin/channels/{pos}``: stores (replaces) the connection; a dead-lettered
    pull starts again (the cursor is kept: nothing is pulled twice as new)."""
    check_connection(command)
    earlier = await connections.get(tenant_id, command.pos)
    secrets = command.secrets
    if earlier is not None and not secrets.access_token and earlier.secrets.refresh_token:
        # Stored again without a token: the one OAuth gave is kept.
        secrets = msgspec.structs.replace(
            secrets,
            access_token=earlier.secrets.access_token,
            refresh_token=earlier.secrets.refresh_token,
            expires_at=earlier.secrets.expires_at,
        )
    connection = PosConnection(
        tenant_id=tenant_id,
        pos=command.pos,
        enabled=command.enabled,
        configured_at=clock.now(),
        details=command.details,
        secrets=secrets,
        verification_code=earlier.verification_code if earlier else None,
        sync=SyncStatus(
            cursor=earlier.sync.cursor if earlier else None,
            last_synced_at=earlier.sync.last_synced_at if earlier else None,
            oversells=earlier.sync.oversells if earlier else 0,
            push_position=earlier.sync.push_position if earlier else None,
            push_since=earlier.sync.push_since if earlier else clock.now(),
        ),
    )
    await connections.put(connection)
    return connection


class UnknownOversellError(DomainError):
    def __init__(self, pos: str, external_id: str) -> None:
        super().__init__(f"no oversell of POS order {external_id!r} on {pos}")


MAX_NOTE = 1000


class ResolveOversell(msgspec.Struct, frozen=True, kw_only=True):
    pos: PosName
    external_id: str
    note: str
    by: str


async def resolve_oversell(
    connections: PosConnections, clock: Clock, tenant_id: UUID, command: ResolveOversell
) -> Oversell:
    """``POST /admin/channels/{pos}/oversells/{external_id}/resolve``: closes an open
    oversell with a person's note (what was done: stock found and counted, the sale
    written off...). Resolving it again answers the first resolution, unchanged."""
    note = command.note.strip()
    if not note or len(note) > MAX_NOTE or not note.isprintable():
        raise InvalidValueError(f"note: 1 to {MAX_NOTE} printable characters")
    resolution = Resolution(note=note, by=command.by, at=clock.now())
    found = await connections.resolve_oversell(
        tenant_id, command.pos, command.external_id, resolution
    )
    if found is None:
        raise UnknownOversellError(command.pos, command.external_id)
    return found
