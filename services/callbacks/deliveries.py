"""The durable webhook queue on table ``webhook_deliveries``.

A row is written once per event (the event id is unique), claimed by one
worker at a time with ``FOR UPDATE SKIP LOCKED`` and a lease, and settled as
delivered, rescheduled or failed.  Each claim increments ``attempts``; the
settling statements match on it, so a worker whose lease ran out and whose
row was claimed again cannot overwrite the newer attempt's outcome.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from libs.common.db import DbConn, Pool, Record, translate_db_errors

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
# last_error is for operators; a long response snippet adds nothing.
LAST_ERROR_MAX_CHARS = 500


@dataclass(frozen=True)
class NewDelivery:
    """A webhook to send, before it has a row."""

    event_id: uuid.UUID
    account_sid: str
    kind: str
    url: str
    content_type: str
    body: bytes


@dataclass(frozen=True)
class Delivery:
    """A claimed row; ``attempts`` counts the attempt about to be made."""

    id: int
    event_id: uuid.UUID
    account_sid: str
    kind: str
    url: str
    content_type: str
    body: bytes
    attempts: int


_INSERT = """
INSERT INTO webhook_deliveries (event_id, account_sid, kind, url, content_type, body)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (event_id) DO NOTHING
"""

_CLAIM = """
WITH due AS (
    SELECT id FROM webhook_deliveries
    WHERE state = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_deliveries AS queued
SET attempts = queued.attempts + 1,
    next_attempt_at = now() + make_interval(secs => $2)
FROM due
WHERE queued.id = due.id
RETURNING queued.id, queued.event_id, queued.account_sid, queued.kind, queued.url,
          queued.content_type, queued.body, queued.attempts
"""

_DELIVERED = """
UPDATE webhook_deliveries
SET state = 'delivered', delivered_at = now(), last_error = NULL
WHERE id = $1 AND attempts = $2 AND state = 'pending'
"""

_RESCHEDULE = """
UPDATE webhook_deliveries
SET next_attempt_at = now() + make_interval(secs => $3), last_error = $4
WHERE id = $1 AND attempts = $2 AND state = 'pending'
"""

_FAILED = """
UPDATE webhook_deliveries
SET state = 'failed', last_error = $3
WHERE id = $1 AND attempts = $2 AND state = 'pending'
"""


async def enqueue(conn: DbConn, delivery: NewDelivery) -> bool:
    """Insert the row unless its event already has one; tell whether it did."""
    status = await conn.execute(
        _INSERT,
        delivery.event_id,
        delivery.account_sid,
        delivery.kind,
        delivery.url,
        delivery.content_type,
        delivery.body,
    )
    return bool(status == "INSERT 0 1")


async def claim_due(pool: Pool, limit: int, lease_s: float) -> list[Delivery]:
    """Claim up to ``limit`` due rows, hiding them from others for ``lease_s``."""
    with translate_db_errors():
        rows = await pool.fetch(_CLAIM, limit, lease_s)
    return [_delivery(row) for row in rows]


async def mark_delivered(pool: Pool, delivery: Delivery) -> None:
    """Settle the row as delivered."""
    with translate_db_errors():
        await pool.execute(_DELIVERED, delivery.id, delivery.attempts)


async def reschedule(
    pool: Pool, delivery: Delivery, delay_s: float, error: str
) -> None:
    """Make the row due again after ``delay_s``, keeping why it failed."""
    with translate_db_errors():
        await pool.execute(
            _RESCHEDULE, delivery.id, delivery.attempts, delay_s, _clip(error)
        )


async def mark_failed(pool: Pool, delivery: Delivery, error: str) -> None:
    """Settle the row as failed for good."""
    with translate_db_errors():
        await pool.execute(_FAILED, delivery.id, delivery.attempts, _clip(error))


async def count_pending(pool: Pool) -> int:
    """How many rows wait for delivery, due or not."""
    with translate_db_errors():
        count = await pool.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'"
        )
    return int(count)


def _delivery(row: Record) -> Delivery:
    return Delivery(
        id=row["id"],
        event_id=uuid.UUID(str(row["event_id"])),
        account_sid=row["account_sid"],
        kind=row["kind"],
        url=row["url"],
        content_type=row["content_type"],
        body=bytes(row["body"]),
        attempts=row["attempts"],
    )


def _clip(error: str) -> str:
    return error[:LAST_ERROR_MAX_CHARS]
