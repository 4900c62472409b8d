"""PostgreSQL access through an asyncpg pool; driver errors stop here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg
import orjson
from asyncpg.pool import PoolConnectionProxy

from .errors import PermanentError, RetryableError
from .settings import CommonSettings

Pool = asyncpg.Pool
Record = asyncpg.Record
# What a pool hands out and what ``asyncpg.connect`` returns; both run queries.
DbConn = asyncpg.Connection | PoolConnectionProxy

_RETRYABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    ConnectionError,
    TimeoutError,
    OSError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda value: orjson.dumps(value).decode(),
        decoder=orjson.loads,
        schema="pg_catalog",
    )


async def _skip_session_reset(_: asyncpg.Connection) -> None:
    """Release without ``RESET ALL; UNLISTEN *; ...``: one round trip fewer.

    Pigeon keeps no session state on pooled connections (no ``SET``, no
    session advisory locks, ``LISTEN`` only on a connection held for good);
    asyncpg still rolls back any transaction left open.
    """


async def create_pool(settings: CommonSettings) -> asyncpg.Pool:
    """Open the pool, translating a failure to connect into ``RetryableError``."""
    with translate_db_errors():
        pool = await asyncpg.create_pool(
            settings.database_url,
            min_size=settings.database_pool_min,
            max_size=settings.database_pool_max,
            command_timeout=settings.database_timeout_s,
            init=_init_connection,
            reset=_skip_session_reset,
        )
    assert pool is not None
    return pool


@contextmanager
def translate_db_errors() -> Iterator[None]:
    """Re-raise driver errors as Pigeon's retryable or permanent errors."""
    try:
        yield
    except _RETRYABLE as exc:
        raise RetryableError(f"database unavailable: {exc}") from exc
    except asyncpg.PostgresError as exc:
        raise PermanentError(f"database refused the statement: {exc}") from exc


@asynccontextmanager
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[DbConn]:
    """Yield a connection inside a transaction, with driver errors translated."""
    with translate_db_errors():
        async with pool.acquire() as conn, conn.transaction():
            yield conn
