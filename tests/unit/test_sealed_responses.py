"""Idempotent responses that name a customer are kept sealed under the customer's key."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest

from adapters.memory.keyring import MemoryKeyring
from commerce_core.shared.ports.idempotency import StoredResponse
from commerce_core.shared.ports.keyring import CorruptCiphertextError
from entrypoints.http.sealed_responses import STATE_KEY, open_response, seal_response

TENANT = uuid.UUID(int=1)
CUSTOMER = uuid.UUID(int=2)
BODY = b'{"email": "ada@example.com", "name": "Ada Lovelace"}'
RESPONSE = StoredResponse(201, BODY, "application/json")


def naming(customer_id: object) -> Any:
    """An ASGI scope whose handler named ``customer_id`` (or nobody)."""
    return {"type": "http", "state": {} if customer_id is None else {STATE_KEY: customer_id}}


async def keyring() -> MemoryKeyring:
    ring = MemoryKeyring()
    await ring.create_key(CUSTOMER)
    return ring


async def test_a_response_naming_a_customer_is_sealed_and_opens_back() -> None:
    ring = await keyring()

    stored = await seal_response(ring, naming(CUSTOMER), TENANT, "k1", RESPONSE)

    assert stored.sealed_for == CUSTOMER
    assert b"Ada" not in stored.body
    assert b"ada@" not in stored.body
    assert (stored.status, stored.content_type) == (201, "application/json")
    assert await open_response(ring, TENANT, "k1", stored) == RESPONSE


async def test_a_response_naming_nobody_is_kept_as_it_was_sent() -> None:
    ring = await keyring()

    stored = await seal_response(ring, naming(None), TENANT, "k1", RESPONSE)

    assert stored == RESPONSE
    assert await open_response(ring, TENANT, "k1", stored) == RESPONSE


async def test_after_the_customers_erasure_the_response_cannot_be_opened() -> None:
    ring = await keyring()
    stored = await seal_response(ring, naming(CUSTOMER), TENANT, "k1", RESPONSE)

    await ring.forget(CUSTOMER)

    assert await open_response(ring, TENANT, "k1", stored) is None


async def test_a_response_sealed_after_an_erasure_keeps_nothing() -> None:
    ring = await keyring()
    await ring.forget(CUSTOMER)  # erased while the request ran

    stored = await seal_response(ring, naming(CUSTOMER), TENANT, "k1", RESPONSE)

    assert (stored.body, stored.sealed_for) == (b"", CUSTOMER)
    assert await open_response(ring, TENANT, "k1", stored) is None


@pytest.mark.parametrize(("tenant", "key"), [(uuid.UUID(int=9), "k1"), (TENANT, "k2")])
async def test_a_sealed_body_moved_to_another_tenant_or_key_fails_to_open(
    tenant: uuid.UUID, key: str
) -> None:
    ring = await keyring()
    stored = await seal_response(ring, naming(CUSTOMER), TENANT, "k1", RESPONSE)

    with pytest.raises(CorruptCiphertextError):
        await open_response(ring, tenant, key, stored)


async def test_a_customer_id_that_is_not_a_uuid_names_nobody() -> None:
    ring = await keyring()

    stored = await seal_response(ring, naming(str(CUSTOMER)), TENANT, "k1", RESPONSE)

    assert msgspec.structs.astuple(stored) == msgspec.structs.astuple(RESPONSE)
