"""Group commit for message creates.

Creates that arrive together are written together: one statement inserts
every waiting message and its ``message.scheduled`` event, so a campaign's
burst costs PostgreSQL one commit per batch instead of one per message, and
the API one round trip.  A request waits for no timer: the first create of a
quiet moment goes out on the next turn of the event loop, and creates that
arrive while a batch is being written form the next one.

Each message still commits atomically with its event.  When a batch is
refused as a whole because one of its messages is (its service was deleted
meanwhile), every message of the batch is written again on its own, so one
bad row answers its own error and costs the others nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog

from libs.common.db import translate_db_errors
from libs.common.events import MESSAGE_SCHEDULED

log = structlog.get_logger(__name__)

DEFAULT_MAX_BATCH = 256

# The columns a create writes; the rest take their defaults.
COLUMNS = (
    ("sid", "text"),
    ("account_sid", "text"),
    ("messaging_service_sid", "text"),
    ("to_address", "text"),
    ("from_address", "text"),
    ("body", "text"),
    ("status", "text"),
    ("shorten_urls", "boolean"),
    ("send_at", "timestamptz"),
    ("status_callback", "text"),
    ("validity_period", "integer"),
    ("num_segments", "integer"),
    ("num_media", "integer"),
)
_NAMES = ", ".join(name for name, _ in COLUMNS)
_ARRAYS = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(COLUMNS, 1))
_PAYLOADS = len(COLUMNS) + 1
_TOPIC = len(COLUMNS) + 2

# Built once from the constants above; every value travels as a parameter.
INSERT_BATCH = (
    f"WITH given AS (SELECT * FROM unnest({_ARRAYS}, ${_PAYLOADS}::bytea[])"  # noqa: S608
    f" AS g({_NAMES}, payload)),"
    f" message AS (INSERT INTO messages ({_NAMES}) SELECT {_NAMES} FROM given"
    " RETURNING sid, date_created, date_updated),"
    f" event AS (INSERT INTO outbox (topic, key, payload)"
    f" SELECT ${_TOPIC}, sid, payload FROM given)"
    " SELECT * FROM message"
)


# Writes one row and its event on its own, for a batch that was refused.
WriteOne = Callable[[Mapping[str, Any], bytes], Awaitable[Mapping[str, Any]]]


class BatchRefusedError(Exception):
    """The batch could not be written as a whole; write its rows one by one."""


@dataclass
class _Waiting:
    row: Mapping[str, Any]
    payload: bytes
    done: asyncio.Future[Mapping[str, Any]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class CreateBatcher:
    """Writes concurrent creates in one statement; see the module docstring."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        write_one: WriteOne,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._pool = pool
        self._write_one = write_one
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def insert(self, row: Mapping[str, Any], payload: bytes) -> Mapping[str, Any]:
        """Write ``row`` and its event; return the row with its timestamps."""
        waiting = _Waiting(row, payload)
        self._waiting.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await asyncio.shield(waiting.done)

    async def _write_all(self) -> None:
        # One turn of the loop lets requests that are already parsed join.
        await asyncio.sleep(0)
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            await self._write(batch)

    async def _write(self, batch: Sequence[_Waiting]) -> None:
        try:
            stamps = await self._write_batch(batch)
        except BatchRefusedError:
            log.info("create_batch_split", size=len(batch))
            await asyncio.gather(*(self._write_alone(w) for w in batch))
            return
        except Exception as exc:  # every waiter must hear how its batch ended
            for waiting in batch:
                if not waiting.done.done():
                    waiting.done.set_exception(exc)
            return
        for waiting in batch:
            if not waiting.done.done():
                waiting.done.set_result({**waiting.row, **stamps[waiting.row["sid"]]})

    async def _write_batch(
        self, batch: Sequence[_Waiting]
    ) -> dict[str, dict[str, Any]]:
        columns = [[w.row[name] for w in batch] for name, _ in COLUMNS]
        with translate_db_errors():
            try:
                rows = await self._pool.fetch(
                    INSERT_BATCH,
                    *columns,
                    [w.payload for w in batch],
                    MESSAGE_SCHEDULED,
                )
            except asyncpg.IntegrityConstraintViolationError as exc:
                raise BatchRefusedError from exc
        return {
            row["sid"]: {
                "date_created": row["date_created"],
                "date_updated": row["date_updated"],
            }
            for row in rows
        }

    async def _write_alone(self, waiting: _Waiting) -> None:
        try:
            waiting.done.set_result(await self._write_one(waiting.row, waiting.payload))
        except Exception as exc:  # the waiter raises it as its own
            waiting.done.set_exception(exc)
