"""The idempotency store contract, run against every adapter."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.idempotency import MemoryIdempotencyStore
from adapters.postgres.idempotency import PostgresIdempotencyStore
from commerce_core.shared.ports.idempotency import (
    IdempotencyRecord,
    IdempotencyStore,
    StoredResponse,
)
from tests.conftest import PgSchema

AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(hours=24)
LEASE = timedelta(seconds=60)
TENANT = uuid.UUID("00000000-0000-0000-0000-00000000000a")
OK = StoredResponse(201, b'{"id": 1}', "application/json")


@pytest.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[IdempotencyStore]:
    if request.param == "memory":
        yield MemoryIdempotencyStore()
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=25)
    try:
        yield PostgresIdempotencyStore(pool)
    finally:
        await pool.close()
        await schema.drop()


async def claim(
    store: IdempotencyStore,
    key: str = "k1",
    request_hash: str = "h1",
    *,
    token: uuid.UUID | None = None,
    at: datetime = AT,
    tenant: uuid.UUID = TENANT,
) -> IdempotencyRecord | None:
    return await store.claim(
        tenant, key, request_hash, token=token or uuid.uuid4(), at=at, ttl=TTL, lease=LEASE
    )


async def test_the_first_claim_on_a_key_wins(store: IdempotencyStore) -> None:
    assert await claim(store) is None


async def test_a_second_claim_sees_the_first_in_progress(store: IdempotencyStore) -> None:
    first = uuid.uuid4()
    await claim(store, token=first)

    existing = await store.claim(
        TENANT, "k1", "h2", token=uuid.uuid4(), at=AT + timedelta(seconds=1), ttl=TTL, lease=LEASE
    )

    assert existing is not None
    assert existing.in_progress
    assert existing.token == first
    assert existing.request_hash == "h1"
    assert existing.expires_at == AT + TTL
    assert existing.locked_until == AT + LEASE


async def test_a_completed_claim_returns_its_response_to_later_claims(
    store: IdempotencyStore,
) -> None:
    token = uuid.uuid4()
    await claim(store, token=token)

    assert await store.complete(TENANT, "k1", token=token, response=OK) is True

    existing = await claim(store, at=AT + timedelta(hours=1))
    assert existing is not None
    assert existing.response == OK
    stored = await store.get(TENANT, "k1", at=AT + timedelta(hours=1))
    assert stored is not None
    assert stored.response == OK


async def test_a_sealed_response_keeps_the_customer_whose_key_sealed_it(
    store: IdempotencyStore,
) -> None:
    token = uuid.uuid4()
    sealed = StoredResponse(201, b"\x01sealed", "application/json", sealed_for=uuid.uuid4())
    await claim(store, token=token)
    await store.complete(TENANT, "k1", token=token, response=sealed)

    stored = await store.get(TENANT, "k1", at=AT)

    assert stored is not None
    assert stored.response == sealed
    await claim(store, at=AT + TTL)  # expired: claimed afresh, nothing of it kept
    again = await store.get(TENANT, "k1", at=AT + TTL)
    assert again is not None
    assert again.response is None


async def test_only_the_holder_completes_or_releases_a_claim(store: IdempotencyStore) -> None:
    token = uuid.uuid4()
    await claim(store, token=token)

    assert await store.complete(TENANT, "k1", token=uuid.uuid4(), response=OK) is False
    assert await store.release(TENANT, "k1", token=uuid.uuid4()) is False
    stored = await store.get(TENANT, "k1", at=AT)
    assert stored is not None
    assert stored.in_progress


async def test_a_released_key_can_be_claimed_again(store: IdempotencyStore) -> None:
    token = uuid.uuid4()
    await claim(store, token=token)

    assert await store.release(TENANT, "k1", token=token) is True

    assert await store.get(TENANT, "k1", at=AT) is None
    assert await claim(store, request_hash="h2") is None


async def test_a_completed_record_is_neither_released_nor_completed_twice(
    store: IdempotencyStore,
) -> None:
    token = uuid.uuid4()
    await claim(store, token=token)
    await store.complete(TENANT, "k1", token=token, response=OK)

    other = StoredResponse(500, b"", None)
    assert await store.complete(TENANT, "k1", token=token, response=other) is False
    assert await store.release(TENANT, "k1", token=token) is False
    stored = await store.get(TENANT, "k1", at=AT)
    assert stored is not None
    assert stored.response == OK


async def test_an_expired_record_is_gone_and_its_key_free(store: IdempotencyStore) -> None:
    token = uuid.uuid4()
    await claim(store, token=token)
    await store.complete(TENANT, "k1", token=token, response=OK)
    later = AT + TTL

    assert await store.get(TENANT, "k1", at=later) is None
    assert await claim(store, request_hash="h2", at=later) is None
    renewed = await store.get(TENANT, "k1", at=later)
    assert renewed is not None
    assert renewed.request_hash == "h2"
    assert renewed.in_progress


async def test_a_claim_abandoned_past_its_lease_is_taken_over(store: IdempotencyStore) -> None:
    abandoned = uuid.uuid4()
    await claim(store, token=abandoned)

    assert await claim(store, at=AT + LEASE - timedelta(seconds=1)) is not None
    assert await claim(store, token=uuid.uuid4(), at=AT + LEASE) is None
    assert await store.complete(TENANT, "k1", token=abandoned, response=OK) is False


async def test_keys_are_separate_per_tenant(store: IdempotencyStore) -> None:
    await claim(store)

    assert await claim(store, tenant=uuid.uuid4()) is None
    assert await store.get(uuid.uuid4(), "k1", at=AT) is None


async def test_of_many_concurrent_claims_exactly_one_wins(store: IdempotencyStore) -> None:
    results = await asyncio.gather(*(claim(store, key="race") for _ in range(20)))

    assert sum(result is None for result in results) == 1


async def test_purging_removes_only_expired_records(store: IdempotencyStore) -> None:
    await claim(store, key="old")
    await claim(store, key="new", at=AT + timedelta(hours=1))

    assert await store.purge_expired(AT + TTL) == 1

    assert await store.get(TENANT, "old", at=AT + timedelta(hours=2)) is None
    assert await store.get(TENANT, "new", at=AT + timedelta(hours=2)) is not None
