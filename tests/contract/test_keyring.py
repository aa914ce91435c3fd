"""The keyring contract: each test runs against the memory and PostgreSQL key stores."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection

import pytest

from adapters.crypto import AesGcmKeyring, KeyStore, WrappedKey
from adapters.memory.keyring import MemoryKeyring, MemoryKeyStore
from adapters.postgres.keyring import PostgresKeyring
from commerce_core.shared.ports.keyring import (
    ERASED,
    CorruptCiphertextError,
    Keyring,
    KeyringError,
    MissingKeyError,
)
from tests.conftest import PgSchema

MASTER_KEY = bytes(range(32))

KeyringFactory = Callable[..., Awaitable[AesGcmKeyring]]


@pytest.fixture(params=["memory", "postgres"])
async def make_keyring(request: pytest.FixtureRequest) -> AsyncIterator[KeyringFactory]:
    """Builds keyrings of one adapter; all built in one test share the same key storage,
    as processes (or restarts) of the service share the database."""
    if request.param == "memory":
        shared = MemoryKeyStore()

        async def memory(master_key: bytes = MASTER_KEY) -> AesGcmKeyring:
            return MemoryKeyring(master_key, shared)

        yield memory
        return

    schema = await PgSchema.create()
    pools = []

    async def postgres(master_key: bytes = MASTER_KEY) -> AesGcmKeyring:
        pool = await schema.pool(max_size=5)
        pools.append(pool)
        return PostgresKeyring(pool, master_key)

    yield postgres
    for pool in pools:
        await pool.close()
    await schema.drop()


@pytest.fixture
async def keyring(make_keyring: KeyringFactory) -> Keyring:
    return await make_keyring()


async def test_what_is_encrypted_decrypts_with_the_same_associated_data(keyring: Keyring) -> None:
    key_id = uuid.uuid4()
    await keyring.create_key(key_id)

    ciphertext = await keyring.encrypt(key_id, b"ada@example.com", b"email")

    assert await keyring.decrypt(key_id, ciphertext, b"email") == b"ada@example.com"


async def test_a_ciphertext_hides_its_plaintext_and_never_repeats(keyring: Keyring) -> None:
    key_id = uuid.uuid4()
    await keyring.create_key(key_id)

    first = await keyring.encrypt(key_id, b"Ada Lovelace")
    second = await keyring.encrypt(key_id, b"Ada Lovelace")

    assert b"Ada " not in first  # not b"Ada": in 41 random bytes once in ~400,000 runs
    assert b"Lovelace" not in first
    assert first != second


async def test_other_associated_data_or_an_altered_ciphertext_is_refused(keyring: Keyring) -> None:
    key_id = uuid.uuid4()
    await keyring.create_key(key_id)
    ciphertext = await keyring.encrypt(key_id, b"secret", b"name")
    altered = ciphertext[:-1] + bytes([ciphertext[-1] ^ 1])

    with pytest.raises(CorruptCiphertextError):
        await keyring.decrypt(key_id, ciphertext, b"phone")
    with pytest.raises(CorruptCiphertextError):
        await keyring.decrypt(key_id, altered, b"name")
    with pytest.raises(CorruptCiphertextError):
        await keyring.decrypt(key_id, b"garbage", b"name")


async def test_one_customers_ciphertext_does_not_open_under_anothers_key(keyring: Keyring) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    await keyring.create_key(ada)
    await keyring.create_key(bob)
    ciphertext = await keyring.encrypt(ada, b"ada's address")

    with pytest.raises(CorruptCiphertextError):
        await keyring.decrypt(bob, ciphertext)


async def test_encrypting_without_a_key_is_refused(keyring: Keyring) -> None:
    key_id = uuid.uuid4()

    with pytest.raises(MissingKeyError) as raised:
        await keyring.encrypt(key_id, b"anything")

    assert raised.value.key_id == key_id


async def test_a_forgotten_key_leaves_its_ciphertexts_erased(keyring: Keyring) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()
    for key_id in (ada, bob):
        await keyring.create_key(key_id)
    adas = await keyring.encrypt(ada, b"ada", b"name")
    bobs = await keyring.encrypt(bob, b"bob", b"name")

    await keyring.forget(ada)
    await keyring.forget(ada)  # forgetting twice is harmless

    assert await keyring.decrypt(ada, adas, b"name") is ERASED
    assert await keyring.decrypt(bob, bobs, b"name") == b"bob"
    with pytest.raises(MissingKeyError):
        await keyring.encrypt(ada, b"ada again")


async def test_creating_a_key_again_keeps_the_first_one(keyring: Keyring) -> None:
    key_id = uuid.uuid4()
    await keyring.create_key(key_id)
    ciphertext = await keyring.encrypt(key_id, b"kept")

    await keyring.create_key(key_id)

    assert await keyring.decrypt(key_id, ciphertext) == b"kept"


async def test_concurrent_creators_of_one_key_all_get_the_same_key(
    make_keyring: KeyringFactory,
) -> None:
    keyrings = [await make_keyring() for _ in range(4)]
    key_id = uuid.uuid4()

    await asyncio.gather(*(k.create_key(key_id) for k in keyrings))
    ciphertexts = [await k.encrypt(key_id, b"same key") for k in keyrings]

    for k in keyrings:
        for ciphertext in ciphertexts:
            assert await k.decrypt(key_id, ciphertext) == b"same key"


async def test_keys_survive_a_restart_with_the_same_master_key(
    make_keyring: KeyringFactory,
) -> None:
    before = await make_keyring()
    key_id = uuid.uuid4()
    await before.create_key(key_id)
    ciphertext = await before.encrypt(key_id, b"durable", b"note")

    after = await make_keyring()

    assert await after.decrypt(key_id, ciphertext, b"note") == b"durable"


async def test_keys_wrapped_by_another_master_key_are_refused(
    make_keyring: KeyringFactory,
) -> None:
    ours = await make_keyring()
    key_id = uuid.uuid4()
    await ours.create_key(key_id)
    ciphertext = await ours.encrypt(key_id, b"private")

    theirs = await make_keyring(master_key=os.urandom(32))

    with pytest.raises(KeyringError):
        await theirs.decrypt(key_id, ciphertext)


async def test_the_blind_index_is_stable_per_tenant_and_reveals_nothing(
    make_keyring: KeyringFactory,
) -> None:
    keyring, restarted = await make_keyring(), await make_keyring()

    index = await keyring.blind_index("t1", "ada@example.com")

    assert index == await restarted.blind_index("t1", "ada@example.com")
    assert index != await keyring.blind_index("t2", "ada@example.com")
    assert index != await keyring.blind_index("t1", "bob@example.com")
    assert "ada" not in index
    assert len(index) == 64


async def test_the_blind_index_depends_on_the_master_key(make_keyring: KeyringFactory) -> None:
    ours, theirs = await make_keyring(), await make_keyring(master_key=os.urandom(32))

    assert await ours.blind_index("t1", "ada@example.com") != await theirs.blind_index(
        "t1", "ada@example.com"
    )


def test_a_master_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        MemoryKeyring(b"too short")


class CountingStore:
    """The keyring's store, counting the round trips asked of it."""

    def __init__(self, store: KeyStore) -> None:
        self.store = store
        self.loads = 0

    async def load(self, key_id: uuid.UUID) -> WrappedKey | None:
        self.loads += 1
        return await self.store.load(key_id)

    async def load_many(self, key_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, WrappedKey]:
        self.loads += 1
        return await self.store.load_many(key_ids)

    async def add(self, key_id: uuid.UUID, key: WrappedKey) -> WrappedKey:
        return await self.store.add(key_id, key)

    async def delete(self, key_id: uuid.UUID) -> None:
        await self.store.delete(key_id)


async def test_held_keys_open_many_values_of_many_keys_with_one_store_round_trip(
    make_keyring: KeyringFactory,
) -> None:
    keyring = await make_keyring()
    ids = [uuid.uuid4() for _ in range(3)]
    sealed = {}
    for key_id in ids:
        await keyring.create_key(key_id)
        sealed[key_id] = [
            await keyring.encrypt(key_id, f"{key_id}:{n}".encode(), b"f") for n in range(4)
        ]
    counting = CountingStore(keyring.store)
    keyring.store = counting

    held = await keyring.holding(ids)
    opened = {k: [await held.decrypt(k, c, b"f") for c in sealed[k]] for k in ids}
    resealed = await held.decrypt(ids[0], await held.encrypt(ids[0], b"new", b"g"), b"g")

    assert counting.loads == 1
    assert opened == {k: [f"{k}:{n}".encode() for n in range(4)] for k in ids}
    assert resealed == b"new"


async def test_held_keys_refuse_what_the_keyring_refuses(keyring: Keyring) -> None:
    ada, bob, never = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for key_id in (ada, bob):
        await keyring.create_key(key_id)
    adas = await keyring.encrypt(ada, b"ada", b"name")

    held = await keyring.holding([ada, bob, never])

    with pytest.raises(CorruptCiphertextError):
        await held.decrypt(ada, adas, b"email")
    with pytest.raises(CorruptCiphertextError):
        await held.decrypt(bob, adas, b"name")
    assert await held.decrypt(never, adas, b"name") is ERASED
    with pytest.raises(MissingKeyError):
        await held.encrypt(never, b"anything")


async def test_a_key_forgotten_since_it_was_held_opens_nothing_at_the_next_holding(
    make_keyring: KeyringFactory,
) -> None:
    ours, another_process = await make_keyring(), await make_keyring()
    ada = uuid.uuid4()
    await ours.create_key(ada)
    adas = await ours.encrypt(ada, b"ada", b"name")
    held = await ours.holding([ada])

    await another_process.forget(ada)

    assert await held.decrypt(ada, adas, b"name") == b"ada"  # held for this batch only
    assert await (await ours.holding([ada])).decrypt(ada, adas, b"name") is ERASED


async def test_forgetting_through_held_keys_erases_at_once(keyring: Keyring) -> None:
    ada = uuid.uuid4()
    await keyring.create_key(ada)
    adas = await keyring.encrypt(ada, b"ada", b"name")
    held = await keyring.holding([ada])

    await held.forget(ada)

    assert await held.decrypt(ada, adas, b"name") is ERASED
    assert await keyring.decrypt(ada, adas, b"name") is ERASED


async def test_held_keys_fetch_the_others_when_asked_and_hold_more_on_request(
    make_keyring: KeyringFactory,
) -> None:
    keyring = await make_keyring()
    ada, bob = uuid.uuid4(), uuid.uuid4()
    for key_id in (ada, bob):
        await keyring.create_key(key_id)
    bobs = await keyring.encrypt(bob, b"bob")
    held = await keyring.holding([ada])
    counting = CountingStore(keyring.store)
    keyring.store = counting

    assert await held.decrypt(bob, bobs) == b"bob"  # not held: fetched
    both = await held.holding([ada, bob])
    assert await both.decrypt(bob, bobs) == b"bob"
    assert await both.decrypt(bob, bobs) == b"bob"

    assert counting.loads == 2  # bob once when asked, once when held; ada not again


async def test_a_key_created_after_it_was_held_as_missing_is_used(keyring: Keyring) -> None:
    ada = uuid.uuid4()
    held = await keyring.holding([ada])

    await held.create_key(ada)

    assert await held.decrypt(ada, await held.encrypt(ada, b"ada")) == b"ada"
