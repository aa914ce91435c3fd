"""The test gateway with its state in PostgreSQL (migration 0012), for the demo mode.

It behaves as ``FakePaymentGateway`` does (``adapters.payments.fake_gateway``: test tokens,
declines, 3-D Secure, fees, destinations, refunds, idempotency keys, several captures per
authorization), but keeps payments, refunds and the answers given per idempotency key in
tables of its own, so every process on the database (``make run``, a restart, the CLI's
jobs) sees the same payments, and reconciliation and ``resolve-pending-payments`` find
them. Ids come from sequences: they never repeat, restarts included.

Each call is one transaction:

- the idempotency key is claimed first (``INSERT ... ON CONFLICT DO NOTHING``): a
  concurrent call with the same key waits on the key's row until the first commits, then
  reads its answer (or, for another request, ``idempotency_key_reused``), so the call acts
  once however many processes send it;
- the payment's row is read ``FOR UPDATE``: concurrent captures and refunds of one payment
  take turns, so together they never exceed what was authorized or captured;
- the new state and the answer (a refusal too, replayed for the key) are written, then
  committed together.

The database out of reach (or a transaction that could not finish) is
``GatewayUnavailableError``: nothing was committed, or the answer was lost; a retry with
the same key returns what happened. Expects a pool made by
``adapters.postgres.connection.create_pool`` (raw jsonb codec).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from adapters.payments.fake_gateway import (
    Change,
    FakeGatewayBase,
    FakeIntent,
    IdKind,
    Request,
    apply,
    authenticate,
    decode_answer,
    decode_intent,
    decode_refund,
    decode_request,
    encode,
    encode_answer,
    fake_id,
    id_needed,
    payment_id_of,
    replay,
)
from adapters.postgres.connection import Connection
from commerce_core.payments.ports.gateway import (
    Destination,
    GatewayPayment,
    GatewayRefund,
    GatewayRequestError,
    GatewayUnavailableError,
)

_CLAIM = """
INSERT INTO test_gateway_answers (idempotency_key, request) VALUES ($1, $2)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING true
"""
_ANSWERED = "SELECT request, answer FROM test_gateway_answers WHERE idempotency_key = $1"
_ANSWER = "UPDATE test_gateway_answers SET answer = $2 WHERE idempotency_key = $1"
_LOCK = "SELECT state FROM test_gateway_payments WHERE id = $1 FOR UPDATE"
_SAVE = """
INSERT INTO test_gateway_payments (id, state) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()
"""
_ADD_REFUND = "INSERT INTO test_gateway_refunds (id, payment_id, state) VALUES ($1, $2, $3)"
_SEQUENCES: dict[IdKind, str] = {
    "payment": "test_gateway_payment_numbers",
    "refund": "test_gateway_refund_numbers",
}
# No answer from the database, or a transaction it gave up on: try again with the key.
_UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.TransactionRollbackError,  # serialization failures, deadlocks
    asyncpg.CannotConnectNowError,
    asyncpg.QueryCanceledError,
    asyncpg.IdleInTransactionSessionTimeoutError,
)


class PostgresFakeGateway(FakeGatewayBase):
    """The ``PaymentGateway`` port on PostgreSQL tables (see the module docstring)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__()
        self._pool = pool

    # Test and demo controls

    async def complete_authentication(
        self, gateway_payment_id: str, success: bool = True
    ) -> GatewayPayment:
        """The customer finished 3-D Secure: authorized (or captured, for a charge) or failed."""
        async with self._transaction() as conn:
            intent = await _locked(conn, gateway_payment_id)
            if intent is None:
                raise GatewayRequestError("resource_missing", f"no payment {gateway_payment_id}")
            intent = authenticate(intent, success)
            await conn.execute(_SAVE, intent.id, encode(intent))
        return intent.view()

    async def count_payments(self) -> int:
        """How many payments were created: a retried call must not add one."""
        async with self._connection() as conn:
            return int(await conn.fetchval("SELECT count(*) FROM test_gateway_payments"))

    async def destination_of(self, gateway_payment_id: str) -> Destination | None:
        """The seller account and fee a marketplace payment was sent with."""
        return (await self._intent(gateway_payment_id)).destination

    async def refunds_made(self) -> list[GatewayRefund]:
        """Every refund made, oldest first."""
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT state FROM test_gateway_refunds ORDER BY created_at, id"
            )
        return [decode_refund(row["state"]).view() for row in rows]

    async def refund_metadata(self, gateway_refund_id: str) -> dict[str, str]:
        """The metadata a refund was sent with."""
        async with self._connection() as conn:
            data = await conn.fetchval(
                "SELECT state FROM test_gateway_refunds WHERE id = $1", gateway_refund_id
            )
        if data is None:
            raise GatewayRequestError("resource_missing", f"no refund {gateway_refund_id}")
        return dict(decode_refund(data).metadata)

    # Storage

    async def _once(self, key: str, request: Request) -> GatewayPayment | GatewayRefund:
        refusal: GatewayRequestError | None = None
        async with self._transaction() as conn:
            if not await conn.fetchval(_CLAIM, key, encode(request)):
                row = await conn.fetchrow(_ANSWERED, key)
                assert row is not None  # committed, with its answer
                first = replay(
                    request, decode_request(row["request"]), decode_answer(row["answer"])
                )
                assert not isinstance(first, GatewayRequestError)  # replay raises those
                return first
            try:
                change = await self._apply(conn, request)
            except GatewayRequestError as refused:
                refusal = refused
                await conn.execute(_ANSWER, key, encode_answer(refused))
            else:
                await conn.execute(_SAVE, change.intent.id, encode(change.intent))
                if change.refund is not None:
                    refund = change.refund
                    await conn.execute(_ADD_REFUND, refund.id, refund.payment_id, encode(refund))
                await conn.execute(_ANSWER, key, encode_answer(change.answer))
        if refusal is not None:  # kept for the key, then raised
            raise refusal
        return change.answer

    async def _apply(self, conn: Connection, request: Request) -> Change:
        payment_id = payment_id_of(request)
        intent = None if payment_id is None else await _locked(conn, payment_id)
        kind = id_needed(request)
        new_id = None
        if kind is not None:
            new_id = fake_id(
                kind, int(await conn.fetchval(f"SELECT nextval('{_SEQUENCES[kind]}')"))
            )
        return apply(request, intent, new_id)

    async def _load(self, gateway_payment_id: str) -> FakeIntent | None:
        async with self._connection() as conn:
            data = await conn.fetchval(
                "SELECT state FROM test_gateway_payments WHERE id = $1", gateway_payment_id
            )
        return None if data is None else decode_intent(data)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Connection]:
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except _UNAVAILABLE as error:
            raise GatewayUnavailableError(f"the test gateway's database: {error!r}") from error

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Connection]:
        async with self._connection() as conn, conn.transaction():
            yield conn


async def _locked(conn: Connection, gateway_payment_id: str) -> FakeIntent | None:
    data = await conn.fetchval(_LOCK, gateway_payment_id)
    return None if data is None else decode_intent(data)
