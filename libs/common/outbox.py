"""Transactional outbox: events are rows first, Kafka records second.

A service writes an event with ``enqueue`` in the same transaction as the rows
the event announces.  ``OutboxRelay`` publishes committed rows in id order and
deletes them once Kafka has acknowledged them.  A crash between the two
publishes a row again, which consumers tolerate by event id.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import structlog

from .db import DbConn
from .errors import RetryableError
from .events import Event
from .kafka import EventProducer

log = structlog.get_logger(__name__)

NOTIFY_CHANNEL = "pigeon_outbox"
DEFAULT_BATCH_SIZE = 200
# A row committed just as the relay found the outbox empty waits this long.
DEFAULT_POLL_INTERVAL_S = 0.25
# After a wake-up the relay lets a batch gather; rows written meanwhile find
# an older row waiting and send no notification of their own.
DEFAULT_LINGER_S = 0.02
_RELAY_LOCK_ID = 0x5049_4700  # one relay publishes at a time: per-key order holds


async def enqueue(conn: DbConn, *events: Event) -> None:
    """Record events to publish once the surrounding transaction commits."""
    if not events:
        return
    await conn.executemany(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
        [(event.topic, event.key(), event.to_bytes()) for event in events],
    )


class OutboxRelay:
    """Moves committed outbox rows to Kafka, woken by NOTIFY or a timer."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: EventProducer,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        linger_s: float = DEFAULT_LINGER_S,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._linger_s = linger_s
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Relay until cancelled, surviving database and broker outages."""
        listener = await self._pool.acquire()
        try:
            await listener.add_listener(NOTIFY_CHANNEL, self._on_notify)
            while True:
                await self._relay_until_empty()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
                    await asyncio.sleep(self._linger_s)
                self._wake.clear()
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await self._pool.release(listener)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _relay_until_empty(self) -> None:
        # Until a batch finds nothing: rows written while a batch was under way
        # sent no notification (see migration 0006), so the relay must look
        # again before it sleeps.
        try:
            while await self.relay_batch() > 0:
                pass
        except (RetryableError, asyncpg.PostgresError, OSError) as exc:
            log.warning("outbox_relay_failed", error=str(exc))

    async def relay_batch(self) -> int:
        """Publish one batch; return how many rows it moved."""
        async with self._pool.acquire() as conn, conn.transaction():
            locked = await conn.fetchval(
                "SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK_ID
            )
            if not locked:
                return 0
            rows = await conn.fetch(
                "SELECT id, topic, key, payload FROM outbox ORDER BY id LIMIT $1",
                self._batch_size,
            )
            if not rows:
                return 0
            await self._producer.publish_many(
                (row["topic"], row["key"], row["payload"]) for row in rows
            )
            await conn.execute(
                "DELETE FROM outbox WHERE id = ANY($1::bigint[])",
                [row["id"] for row in rows],
            )
        log.debug("outbox_relayed", count=len(rows))
        return len(rows)
