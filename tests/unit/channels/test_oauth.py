"""POS OAuth use cases (ADR 0043) on memory stores and a fake POS OAuth app: the state's
rules, nothing stored on a failed callback, and tokens refreshed only when due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.pos_connections import MemoryPosConnections
from adapters.memory.pos_oauth_states import MemoryOAuthStates
from commerce_core.channels.connections import (
    ConnectPos,
    PosDetails,
    PosName,
    PosNotConnectedError,
    PosSecrets,
    connect_pos,
)
from commerce_core.channels.oauth import (
    STATE_TTL,
    OAuthCallback,
    OAuthDeniedError,
    OAuthServices,
    OAuthStateError,
    PosTokens,
    digest,
    finish_oauth,
    refreshed,
    start_oauth,
)
from commerce_core.channels.ports import PosRefusedError

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class FakeOAuth:
    refresh_margin = timedelta(days=7)

    def __init__(self) -> None:
        self.exchanged: list[str] = []
        self.refreshed: list[str] = []

    def authorize_url(self, state: str) -> str:
        return f"https://pos.example/authorize?state={state}"

    async def exchange(self, code: str) -> PosTokens:
        if code != "good-code":
            raise PosRefusedError("bad code", "UNAUTHORIZED")
        self.exchanged.append(code)
        return PosTokens(
            access_token="access-1",
            refresh_token="refresh-1",
            expires_at=T0 + timedelta(days=30),
            merchant_id="M1",
        )

    async def refresh(self, refresh_token: str) -> PosTokens:
        self.refreshed.append(refresh_token)
        return PosTokens(
            access_token="access-2", refresh_token="refresh-2", expires_at=T0 + timedelta(days=60)
        )


@pytest.fixture
def services() -> OAuthServices:
    return OAuthServices(
        connections=MemoryPosConnections(bytes(32)),
        states=MemoryOAuthStates(),
        oauth=FakeOAuth(),
        clock=FixedClock(T0),
    )


async def connected(services: OAuthServices, pos: PosName = PosName.SQUARE):  # type: ignore[no-untyped-def]
    tenant = uuid4()
    command = ConnectPos(
        pos=pos,
        details=PosDetails(location_map={"L1": "main"}, merchant_id="M1"),
        secrets=PosSecrets(signature_key="k"),
    )
    await connect_pos(services.connections, services.clock, tenant, command)
    return tenant


async def test_a_granted_code_stores_the_tokens_sealed_and_spends_the_state(
    services: OAuthServices,
) -> None:
    tenant = await connected(services)
    url = await start_oauth(services, tenant, "square", "state-1")

    connection = await finish_oauth(
        services, tenant, "square", OAuthCallback(state="state-1", code="good-code")
    )

    assert url.endswith("state=state-1")
    stored = await services.connections.get(tenant, "square")
    assert stored is not None
    assert stored.secrets.access_token == connection.secrets.access_token == "access-1"
    assert stored.secrets.signature_key == "k"  # the webhook key is kept
    assert "access-1" not in repr(stored)
    with pytest.raises(OAuthStateError):
        await finish_oauth(
            services, tenant, "square", OAuthCallback(state="state-1", code="good-code")
        )


@pytest.mark.parametrize("case", ["expired", "other tenant", "other pos", "unknown"])
async def test_a_state_that_does_not_hold_stores_nothing(
    services: OAuthServices, case: str
) -> None:
    tenant = await connected(services)
    await connected(services, PosName.CLOVER)
    await start_oauth(services, tenant, "square", "state-1")
    assert isinstance(services.clock, FixedClock)
    asked = {"tenant": tenant, "pos": "square", "state": "state-1"}
    if case == "expired":
        services.clock.advance(STATE_TTL)
    elif case == "other tenant":
        asked["tenant"] = await connected(services)
    elif case == "other pos":
        asked["pos"] = "clover"
    else:
        asked["state"] = "state-2"

    with pytest.raises(OAuthStateError):
        await finish_oauth(
            services,
            asked["tenant"],
            str(asked["pos"]),
            OAuthCallback(state=str(asked["state"]), code="good-code"),
        )

    assert services.oauth.exchanged == []  # type: ignore[attr-defined]
    stored = await services.connections.get(tenant, "square")
    assert stored is not None
    assert stored.secrets.access_token == ""


@pytest.mark.parametrize(
    ("callback", "error"),
    [
        (OAuthCallback(state="s", error="access_denied"), OAuthDeniedError),
        (OAuthCallback(state="s"), OAuthDeniedError),
        (OAuthCallback(state="s", code="stolen"), PosRefusedError),
    ],
)
async def test_a_denied_or_refused_grant_stores_nothing(
    services: OAuthServices, callback: OAuthCallback, error: type[Exception]
) -> None:
    tenant = await connected(services)
    await start_oauth(services, tenant, "square", "s")

    with pytest.raises(error):
        await finish_oauth(services, tenant, "square", callback)

    stored = await services.connections.get(tenant, "square")
    assert stored is not None
    assert stored.secrets.access_token == ""
    assert await services.states.take(digest("s")) is None  # spent all the same


async def test_oauth_starts_only_for_a_stored_connection(services: OAuthServices) -> None:
    with pytest.raises(PosNotConnectedError):
        await start_oauth(services, uuid4(), "square", "s")


async def test_tokens_are_refreshed_only_within_the_margin_and_stored(
    services: OAuthServices,
) -> None:
    tenant = await connected(services)
    await start_oauth(services, tenant, "square", "s")
    connection = await finish_oauth(
        services, tenant, "square", OAuthCallback(state="s", code="good-code")
    )

    early = await refreshed(connection, services.oauth, services.connections, T0)
    due = await refreshed(connection, services.oauth, services.connections, T0 + timedelta(days=24))

    assert early.secrets.access_token == "access-1"
    assert due.secrets.access_token == "access-2"
    stored = await services.connections.get(tenant, "square")
    assert stored is not None
    assert stored.secrets.refresh_token == "refresh-2"
    assert services.oauth.refreshed == ["refresh-1"]  # type: ignore[attr-defined]


async def test_a_token_given_by_hand_is_never_refreshed(services: OAuthServices) -> None:
    tenant = uuid4()
    command = ConnectPos(
        pos=PosName.SQUARE,
        details=PosDetails(location_map={"L1": "main"}),
        secrets=PosSecrets(access_token="by-hand", signature_key="k"),
    )
    connection = await connect_pos(services.connections, services.clock, tenant, command)

    same = await refreshed(
        connection, services.oauth, services.connections, T0 + timedelta(days=999)
    )

    assert same is connection


async def test_storing_the_connection_again_without_a_token_keeps_the_oauth_one(
    services: OAuthServices,
) -> None:
    tenant = await connected(services)
    await start_oauth(services, tenant, "square", "s")
    await finish_oauth(services, tenant, "square", OAuthCallback(state="s", code="good-code"))

    again = await connect_pos(
        services.connections,
        services.clock,
        tenant,
        ConnectPos(
            pos=PosName.SQUARE,
            details=PosDetails(location_map={"L1": "main", "L2": "main"}),
            secrets=PosSecrets(signature_key="k2"),
        ),
    )

    assert again.secrets.access_token == "access-1"
    assert again.secrets.signature_key == "k2"
