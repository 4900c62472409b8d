"""The scheduler's writes: a message becomes due exactly once.

Claiming and cancelling race on the same row.  Each is one conditional
``UPDATE``; PostgreSQL's row lock lets exactly one of them see
``dispatch_state = 'pending'``, so a message is either canceled or due, never
both.  The claim compares ``send_at`` with the database clock, so nothing is
sent early whatever the local clock says.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from libs.common.db import transaction, translate_db_errors
from libs.common.events import MessageDue
from libs.common.outbox import enqueue


async def claim_due(pool: asyncpg.Pool, sids: list[str]) -> list[str]:
    """Mark the due ones among ``sids`` due and announce them; return those."""
    async with transaction(pool) as conn:
        rows = await conn.fetch(
            "UPDATE messages SET dispatch_state = 'due',"
            " status = CASE WHEN status = 'scheduled' THEN 'queued' ELSE status END,"
            " date_updated = now()"
            " WHERE sid = ANY($1::text[]) AND dispatch_state = 'pending'"
            " AND (send_at IS NULL OR send_at <= clock_timestamp())"
            " RETURNING sid, account_sid",
            sids,
        )
        await enqueue(
            conn,
            *(
                MessageDue(message_sid=row["sid"], account_sid=row["account_sid"])
                for row in rows
            ),
        )
    return [row["sid"] for row in rows]


async def seconds_until_due(pool: asyncpg.Pool, sids: list[str]) -> dict[str, float]:
    """Seconds each still pending one among ``sids`` waits, by the database clock.

    A claim refused because the database clock is behind the local one tells
    the timers when to try again; canceled or claimed messages are left out.
    """
    with translate_db_errors():
        rows = await pool.fetch(
            "SELECT sid, extract(epoch FROM send_at - clock_timestamp())::float8"
            " AS wait_s FROM messages WHERE sid = ANY($1::text[])"
            " AND dispatch_state = 'pending' AND send_at IS NOT NULL",
            sids,
        )
    return {row["sid"]: row["wait_s"] for row in rows}


async def pending_within(
    pool: asyncpg.Pool, horizon_s: float
) -> list[tuple[str, datetime | None]]:
    """Pending messages due before now + ``horizon_s``, for the timers."""
    with translate_db_errors():
        rows = await pool.fetch(
            "SELECT sid, send_at FROM messages WHERE dispatch_state = 'pending'"
            " AND (send_at IS NULL"
            " OR send_at <= clock_timestamp() + make_interval(secs => $1))",
            horizon_s,
        )
    return [(row["sid"], row["send_at"]) for row in rows]
