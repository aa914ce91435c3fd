"""What a request meets when PostgreSQL cannot be reached: errors that say "try later".

Connection refused or reset, a pool that cannot open a connection, a connection dropped
in the middle of a query, a server shutting down or starting up, no connection slot
left: none of these is the request's fault or a bug, so the API answers 503
``service-unavailable`` with ``Retry-After`` instead of 500. The pool replaces dead
connections on its next ``acquire``, so the service recovers by itself once the
database answers again.
"""

from __future__ import annotations

import asyncpg

RETRY_AFTER_SECONDS = 5

DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and a connection lost mid-query
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up (class 57)
    asyncpg.exceptions.TooManyConnectionsError,
)


def database_unavailable(error: BaseException) -> bool:
    """Whether the error, or one it was raised from or grouped with, is one of those."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DATABASE_UNAVAILABLE):
            return True
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        if current.__cause__ is not None:
            pending.append(current.__cause__)
        if current.__context__ is not None and not current.__suppress_context__:
            pending.append(current.__context__)
    return False
