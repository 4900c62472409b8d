"""Claiming due messages in PostgreSQL: never early, never twice, never after cancel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from libs.common import sids
from services.scheduler.claims import claim_due, pending_within, seconds_until_due
from services.scheduler.scheduler import Scheduler
from tests.support.polling import until


async def make_message(pool: asyncpg.Pool, send_at: datetime | None) -> str:
    account_sid = sids.new_sid(sids.ACCOUNT)
    await pool.execute(
        "INSERT INTO accounts (sid, friendly_name, auth_token_hash, auth_token_sealed,"
        " auth_token_key_id) VALUES ($1, 'claims', '\\x00', '\\x00', 'k')",
        account_sid,
    )
    sid = sids.new_sid(sids.MESSAGE)
    await pool.execute(
        "INSERT INTO messages (sid, account_sid, to_address, body, status, send_at)"
        " VALUES ($1, $2, '+15558675310', 'hi', 'scheduled', $3)",
        sid,
        account_sid,
        send_at,
    )
    return sid


async def due_events(pool: asyncpg.Pool, sid: str) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'message.due' AND key = $1", sid
    )
    return count


async def test_a_future_message_is_not_claimed(pool: asyncpg.Pool) -> None:
    """Before SendAt the claim refuses and announces nothing."""
    sid = await make_message(pool, datetime.now(UTC) + timedelta(hours=1))
    assert await claim_due(pool, [sid]) == []
    assert await due_events(pool, sid) == 0


async def test_a_due_message_is_claimed_once(pool: asyncpg.Pool) -> None:
    """Concurrent claims of a due message: exactly one wins and one event is written."""
    sid = await make_message(pool, datetime.now(UTC) - timedelta(seconds=1))
    results = await asyncio.gather(*(claim_due(pool, [sid]) for _ in range(4)))
    assert sorted(results) == [[], [], [], [sid]]
    assert await due_events(pool, sid) == 1
    status = await pool.fetchval("SELECT status FROM messages WHERE sid = $1", sid)
    assert status == "queued"


async def test_a_canceled_message_is_never_claimed(pool: asyncpg.Pool) -> None:
    """Once canceled, a message stays canceled when its time comes."""
    sid = await make_message(pool, datetime.now(UTC) - timedelta(seconds=1))
    await pool.execute(
        "UPDATE messages SET status = 'canceled', dispatch_state = 'canceled'"
        " WHERE sid = $1",
        sid,
    )
    assert await claim_due(pool, [sid]) == []
    assert await due_events(pool, sid) == 0


async def test_sweep_finds_messages_within_the_horizon_only(pool: asyncpg.Pool) -> None:
    """The recovery sweep loads pending messages due soon, not those far ahead."""
    soon = await make_message(pool, datetime.now(UTC) + timedelta(seconds=30))
    later = await make_message(pool, datetime.now(UTC) + timedelta(days=3))
    found = {sid for sid, _ in await pending_within(pool, 60)}
    assert soon in found
    assert later not in found


async def test_only_pending_messages_report_their_wait(pool: asyncpg.Pool) -> None:
    """A pending message reports how long the database clock says it has left."""
    later = await make_message(pool, datetime.now(UTC) + timedelta(hours=1))
    canceled = await make_message(pool, datetime.now(UTC) + timedelta(hours=1))
    await pool.execute(
        "UPDATE messages SET status = 'canceled', dispatch_state = 'canceled'"
        " WHERE sid = $1",
        canceled,
    )
    waits = await seconds_until_due(pool, [later, canceled])
    assert set(waits) == {later}
    assert 0 < waits[later] <= 3600


async def test_a_timer_fired_before_the_database_clock_is_retried(
    pool: asyncpg.Pool,
) -> None:
    """A timer firing while the database still says "not yet" claims soon after.

    The timer is set at the local instant now although the message is due a
    moment later, as when the local clock runs ahead; no sweep runs, so only
    a retry of the refused claim can make the message due.
    """
    sid = await make_message(pool, datetime.now(UTC) + timedelta(milliseconds=300))
    scheduler = Scheduler(pool, horizon_s=120)
    runner = asyncio.create_task(scheduler.timers.run())
    scheduler.timers.add(sid, datetime.now(UTC))

    async def is_due() -> bool:
        state = await pool.fetchval(
            "SELECT dispatch_state FROM messages WHERE sid = $1", sid
        )
        return bool(state == "due")

    try:
        await until(is_due, timeout_s=10)
    finally:
        runner.cancel()
    assert await due_events(pool, sid) == 1
