"""The gateway configuration store contract: memory and PostgreSQL; secrets sealed at rest."""

from __future__ import annotations

import pickle
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.crypto.gateway_secrets import SealedCredentials
from adapters.memory.gateway_configs import MemoryGatewayConfigs
from adapters.postgres.gateway_configs import PostgresGatewayConfigs
from commerce_core.payments.ports.gateway_configs import (
    GatewayConfig,
    GatewayConfigs,
    GatewayCredentials,
    GatewaySummary,
)
from commerce_core.shared.ports.keyring import KeyringError
from tests.conftest import PgSchema

MASTER_KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SECRET = "sk_test_0123456789abcdef"
WEBHOOK = "whsec_fedcba9876543210"


@dataclass
class Storage:
    """Stores sharing one storage (as processes share a database), and its raw bytes."""

    make: Callable[[bytes], Awaitable[GatewayConfigs]]
    raw: Callable[[], Awaitable[bytes]]
    swap: Callable[[uuid.UUID, uuid.UUID], Awaitable[None]]
    """Moves one tenant's sealed credentials onto another's row (an attack or a bad copy)."""


@pytest.fixture(params=["memory", "postgres"])
async def storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    if request.param == "memory":
        rows: dict[tuple[uuid.UUID, str], tuple[GatewaySummary, SealedCredentials]] = {}

        async def memory(key: bytes) -> GatewayConfigs:
            store = MemoryGatewayConfigs(key)
            store.rows = rows
            return store

        async def raw_memory() -> bytes:
            return pickle.dumps(rows)  # every value held, whatever its repr shows

        async def swap_memory(source: uuid.UUID, target: uuid.UUID) -> None:
            summary, _ = rows[(target, "stripe")]
            _, sealed = rows[(source, "stripe")]
            rows[(target, "stripe")] = (summary, sealed)

        yield Storage(memory, raw_memory, swap_memory)
        return

    schema = await PgSchema.create()
    pool = await schema.pool(max_size=4)

    async def postgres(key: bytes) -> GatewayConfigs:
        return PostgresGatewayConfigs(pool, key)

    async def raw_postgres() -> bytes:
        rows = await pool.fetch("SELECT * FROM gateway_configs")
        return b"".join(
            value if isinstance(value, bytes) else str(value).encode()
            for row in rows
            for value in row.values()
        )

    async def swap_postgres(source: uuid.UUID, target: uuid.UUID) -> None:
        await pool.execute(
            "UPDATE gateway_configs SET sealed_credentials = (SELECT sealed_credentials"
            " FROM gateway_configs WHERE tenant_id = $1) WHERE tenant_id = $2",
            source,
            target,
        )

    try:
        yield Storage(postgres, raw_postgres, swap_postgres)
    finally:
        await pool.close()
        await schema.drop()


def a_config(
    tenant_id: uuid.UUID, secret: str = SECRET, enabled: bool = True, minutes: int = 0
) -> GatewayConfig:
    return GatewayConfig(
        tenant_id=tenant_id,
        gateway="stripe",
        enabled=enabled,
        configured_at=AT + timedelta(minutes=minutes),
        credentials=GatewayCredentials(secret_key=secret, webhook_secret=WEBHOOK),
        publishable_key="pk_test_abc",
    )


async def test_a_configuration_is_read_back_with_its_secrets(storage: Storage) -> None:
    configs = await storage.make(MASTER_KEY)
    tenant = uuid.uuid4()

    await configs.put(a_config(tenant))

    assert await configs.get(tenant, "stripe") == a_config(tenant)
    assert await configs.get(tenant, "paypal") is None
    assert await configs.get(uuid.uuid4(), "stripe") is None


async def test_a_configuration_is_replaced_and_listed_without_secrets(storage: Storage) -> None:
    configs = await storage.make(MASTER_KEY)
    tenant, other = uuid.uuid4(), uuid.uuid4()
    await configs.put(a_config(tenant))
    await configs.put(a_config(other))

    await configs.put(a_config(tenant, "sk_test_new", enabled=False, minutes=5))

    stored = await configs.get(tenant, "stripe")
    assert stored is not None
    assert (stored.credentials.secret_key, stored.enabled) == ("sk_test_new", False)
    assert await configs.summaries(tenant) == [
        GatewaySummary(
            gateway="stripe",
            enabled=False,
            configured_at=AT + timedelta(minutes=5),
            publishable_key="pk_test_abc",
        )
    ]


async def test_secrets_are_stored_sealed(storage: Storage) -> None:
    configs = await storage.make(MASTER_KEY)
    await configs.put(a_config(uuid.uuid4()))

    raw = await storage.raw()

    assert b"pk_test_abc" in raw  # the raw view does show what is stored in the clear
    assert SECRET.encode() not in raw
    assert WEBHOOK.encode() not in raw


async def test_secrets_sealed_under_another_master_key_do_not_open(storage: Storage) -> None:
    tenant = uuid.uuid4()
    await (await storage.make(MASTER_KEY)).put(a_config(tenant))

    with pytest.raises(KeyringError):
        await (await storage.make(OTHER_KEY)).get(tenant, "stripe")


async def test_secrets_moved_to_another_tenant_do_not_open(storage: Storage) -> None:
    configs = await storage.make(MASTER_KEY)
    victim, other = uuid.uuid4(), uuid.uuid4()
    await configs.put(a_config(victim))
    await configs.put(a_config(other, "sk_test_other"))

    await storage.swap(victim, other)

    with pytest.raises(KeyringError):
        await configs.get(other, "stripe")


def test_credentials_never_show_in_their_repr() -> None:
    shown = repr(a_config(uuid.uuid4()))

    assert SECRET not in shown
    assert WEBHOOK not in shown
