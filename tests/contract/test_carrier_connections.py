"""The carrier connection and label document stores' contract: memory and PostgreSQL;
secrets sealed at rest and bound to their tenant (ADR 0030)."""

from __future__ import annotations

import pickle
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.carrier_connections import MemoryCarrierConnections
from adapters.memory.label_documents import MemoryLabelDocuments
from adapters.postgres.carrier_connections import PostgresCarrierConnections
from adapters.postgres.label_documents import PostgresLabelDocuments
from commerce_core.fulfilment.connections import (
    CarrierConnection,
    CarrierConnections,
    CarrierDetails,
    CarrierName,
    CarrierSecrets,
    UpsEnvironment,
)
from commerce_core.fulfilment.label_documents import LabelDocuments, StoredLabel
from commerce_core.fulfilment.ports import LabelFormat
from commerce_core.shared.ports.keyring import KeyringError
from commerce_core.shared.values import Address
from tests.conftest import PgSchema

MASTER_KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
SECRET = "ups-client-secret-0123456789"
HOME = Address(name="Mugs", line1="9 Dock Rd", city="Austin", postal_code="78701", country="US")


@dataclass
class Stores:
    connections: Any  # (master key) -> CarrierConnections over one shared storage
    labels: LabelDocuments
    raw: Any  # () -> bytes of everything stored


@pytest.fixture(params=["memory", "postgres"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    if request.param == "memory":
        rows: dict[Any, Any] = {}

        def memory(key: bytes) -> CarrierConnections:
            store = MemoryCarrierConnections(key)
            store.rows = rows
            return store

        async def raw_memory() -> bytes:
            return pickle.dumps(rows)

        yield Stores(memory, MemoryLabelDocuments(), raw_memory)
        return
    schema = await PgSchema.create()
    pool = await schema.pool(max_size=4)

    async def raw_postgres() -> bytes:
        found = await pool.fetch("SELECT * FROM carrier_connections")
        return b"".join(
            value if isinstance(value, bytes) else str(value).encode()
            for row in found
            for value in row.values()
        )

    try:
        yield Stores(
            lambda key: PostgresCarrierConnections(pool, key),
            PostgresLabelDocuments(pool),
            raw_postgres,
        )
    finally:
        await pool.close()
        await schema.drop()


def ups(tenant_id: uuid.UUID, minutes: int = 0, enabled: bool = True) -> CarrierConnection:
    return CarrierConnection(
        tenant_id=tenant_id,
        carrier=CarrierName.UPS,
        enabled=enabled,
        configured_at=AT + timedelta(minutes=minutes),
        details=CarrierDetails(
            ship_from=HOME, account_number="A1B2C3", environment=UpsEnvironment.PRODUCTION
        ),
        secrets=CarrierSecrets(values={"client_id": "id-1", "client_secret": SECRET}),
    )


async def test_a_connection_reads_back_with_its_secrets_and_lists_without(stores: Stores) -> None:
    tenant = uuid.uuid4()
    store = stores.connections(MASTER_KEY)
    await store.put(ups(tenant))

    found = await store.get(tenant, "ups")

    assert found == ups(tenant)
    [summary] = await store.summaries(tenant)
    assert summary == ups(tenant).summary
    assert SECRET not in repr(found)
    assert SECRET.encode() not in await stores.raw()


async def test_a_connection_is_replaced_and_belongs_to_its_tenant_only(stores: Stores) -> None:
    tenant, other = uuid.uuid4(), uuid.uuid4()
    store = stores.connections(MASTER_KEY)
    await store.put(ups(tenant))
    await store.put(ups(tenant, minutes=5, enabled=False))

    assert (await store.get(tenant, "ups")) == ups(tenant, minutes=5, enabled=False)
    assert await store.get(other, "ups") is None
    assert await store.summaries(other) == []


async def test_secrets_sealed_under_another_master_key_do_not_open(stores: Stores) -> None:
    tenant = uuid.uuid4()
    await stores.connections(MASTER_KEY).put(ups(tenant))

    with pytest.raises(KeyringError):
        await stores.connections(OTHER_KEY).get(tenant, "ups")


async def test_the_first_label_document_of_a_key_is_kept(stores: Stores) -> None:
    shipment, owner = uuid.uuid4(), uuid.uuid4()
    first = StoredLabel(format=LabelFormat.PDF, sealed_for=owner, content=b"first")
    await stores.labels.put("tenant-1", shipment, "k:label", first)
    await stores.labels.put(
        "tenant-1",
        shipment,
        "k:label",
        StoredLabel(format=LabelFormat.PNG, sealed_for=owner, content=b"x"),
    )

    assert await stores.labels.get("tenant-1", shipment, "k:label") == first
    assert await stores.labels.get("tenant-2", shipment, "k:label") is None
    assert await stores.labels.get("tenant-1", shipment, "k:label:2") is None
