"""Idempotency-Key over HTTP: act once, replay the outcome, refuse reuse, survive races."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from dependency_injector import providers

from adapters.postgres.idempotency import PostgresIdempotencyStore
from commerce_core.shared.ports.idempotency import IdempotencyRecord
from tests.integration.http.conftest import GATE_TIMEOUT, Api, MakeApi, bearer

PROBLEMS = "https://commerce-core.dev/problems/"


def keyed(secret: str, key: str) -> dict[str, str]:
    return {**bearer(secret), "Idempotency-Key": key}


async def test_a_repeated_request_replays_the_first_response_without_acting(api: Api) -> None:
    _, admin = await api.tenant("acme")

    first = await api.client.post(
        "/api/v1/_test/counter", json={"n": 1}, headers=keyed(admin, "order-1")
    )
    again = await api.client.post(
        "/api/v1/_test/counter", json={"n": 1}, headers=keyed(admin, "order-1")
    )

    assert api.probe.calls == 1
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers


async def test_the_handler_gets_the_idempotency_key(api: Api) -> None:
    _, admin = await api.tenant("acme")

    keyed_response = await api.client.post(
        "/api/v1/_test/counter", json={}, headers=keyed(admin, "abc")
    )
    plain = await api.client.post("/api/v1/_test/counter", json={}, headers=bearer(admin))

    assert keyed_response.json()["key"] == "abc"
    assert plain.json()["key"] is None


async def test_requests_without_a_key_act_every_time(api: Api) -> None:
    _, admin = await api.tenant("acme")

    for _ in range(2):
        await api.client.post("/api/v1/_test/counter", json={"n": 1}, headers=bearer(admin))

    assert api.probe.calls == 2


async def test_the_same_key_with_another_request_is_refused(api: Api) -> None:
    _, admin = await api.tenant("acme")
    await api.client.post("/api/v1/_test/counter", json={"n": 1}, headers=keyed(admin, "k"))

    other_body = await api.client.post(
        "/api/v1/_test/counter", json={"n": 2}, headers=keyed(admin, "k")
    )
    other_path = await api.client.post(
        "/api/v1/_test/fail", json={"n": 1}, headers=keyed(admin, "k")
    )

    assert api.probe.calls == 1
    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == PROBLEMS + "idempotency-key-reused"


async def test_keys_belong_to_one_tenant(api: Api) -> None:
    acme, acme_admin = await api.tenant("acme")
    globex, globex_admin = await api.tenant("globex")

    mine = await api.client.post("/api/v1/_test/counter", json={}, headers=keyed(acme_admin, "k"))
    theirs = await api.client.post(
        "/api/v1/_test/counter", json={}, headers=keyed(globex_admin, "k")
    )

    assert api.probe.calls == 2
    assert mine.json()["tenant"] == str(acme.id)
    assert theirs.json()["tenant"] == str(globex.id)
    assert "idempotent-replayed" not in theirs.headers


async def test_a_server_error_releases_the_key_so_a_retry_acts(api: Api) -> None:
    _, admin = await api.tenant("acme")

    first = await api.client.post("/api/v1/_test/fail", json={}, headers=keyed(admin, "k"))
    retry = await api.client.post("/api/v1/_test/fail", json={}, headers=keyed(admin, "k"))

    assert first.status_code == retry.status_code == 500
    assert "idempotent-replayed" not in retry.headers
    assert api.probe.calls == 2


async def test_a_client_error_is_kept_and_replayed(api: Api) -> None:
    _, admin = await api.tenant("acme")
    body = {"name": "mug", "quantity": "two"}

    first = await api.client.post("/api/v1/_test/items", json=body, headers=keyed(admin, "k"))
    again = await api.client.post("/api/v1/_test/items", json=body, headers=keyed(admin, "k"))

    assert first.status_code == again.status_code == 422
    assert again.content == first.content
    assert again.headers["content-type"] == "application/problem+json"
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_concurrency_conflict_releases_the_key_so_a_retry_acts(api: Api) -> None:
    _, admin = await api.tenant("acme")

    first = await api.client.post("/api/v1/_test/domain/concurrency", headers=keyed(admin, "k"))
    retry = await api.client.post("/api/v1/_test/domain/concurrency", headers=keyed(admin, "k"))

    assert first.status_code == retry.status_code == 409
    assert "idempotent-replayed" not in retry.headers


async def test_an_unusable_key_is_refused(api: Api) -> None:
    _, admin = await api.tenant("acme")

    response = await api.client.post(
        "/api/v1/_test/counter", json={}, headers=keyed(admin, "k" * 256)
    )

    assert response.status_code == 422
    assert response.json()["type"] == PROBLEMS + "validation-error"
    assert api.probe.calls == 0


class WatchedStore(PostgresIdempotencyStore):
    """The real store, noting which requests poll a claim held by another request."""

    def __init__(self, pool: asyncpg.Pool, waiters: int) -> None:
        super().__init__(pool)
        self.polling: set[asyncio.Task[Any] | None] = set()
        self.waiters = waiters
        self.all_waiting = asyncio.Event()

    async def get(self, tenant_id: UUID, key: str, *, at: datetime) -> IdempotencyRecord | None:
        self.polling.add(asyncio.current_task())
        if len(self.polling) >= self.waiters:
            self.all_waiting.set()
        return await super().get(tenant_id, key, at=at)


async def test_ten_concurrent_requests_with_one_key_act_once(make_api: MakeApi) -> None:
    api = await make_api(idempotency_wait=GATE_TIMEOUT)
    pool = api.container.pool()
    assert pool is not None
    store = WatchedStore(pool, waiters=9)
    api.container.idempotency.override(providers.Object(store))
    _, admin = await api.tenant("acme")

    requests = [
        asyncio.create_task(
            api.client.post("/api/v1/_test/held", json={"n": 1}, headers=keyed(admin, "race"))
        )
        for _ in range(10)
    ]
    await asyncio.wait_for(api.probe.entered.wait(), GATE_TIMEOUT)
    await asyncio.wait_for(store.all_waiting.wait(), GATE_TIMEOUT)  # the other nine wait
    api.probe.gate.set()
    responses: list[httpx.Response] = await asyncio.gather(*requests)

    assert api.probe.calls == 1
    assert {r.status_code for r in responses} == {201}
    assert {r.content for r in responses} == {b'{"calls":1}'}
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 9


async def test_a_request_that_waits_too_long_is_told_to_retry(make_api: MakeApi) -> None:
    api = await make_api(idempotency_wait=0.2)
    _, admin = await api.tenant("acme")
    first = asyncio.create_task(
        api.client.post("/api/v1/_test/held", json={}, headers=keyed(admin, "slow"))
    )
    await asyncio.wait_for(api.probe.entered.wait(), GATE_TIMEOUT)

    second = await api.client.post("/api/v1/_test/held", json={}, headers=keyed(admin, "slow"))
    api.probe.gate.set()

    assert second.status_code == 409
    assert second.json()["type"] == PROBLEMS + "idempotency-key-in-progress"
    assert (await first).status_code == 201
    assert api.probe.calls == 1
