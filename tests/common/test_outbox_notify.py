"""When the outbox trigger wakes the relays, on the session's PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from libs.common.outbox import NOTIFY_CHANNEL
from libs.common.settings import CommonSettings

QUIET_S = 0.3


@pytest.fixture
async def wakeups(settings: CommonSettings) -> AsyncIterator[asyncio.Queue[str]]:
    """Notifications on the relays' channel, as a relay's listener sees them."""
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(settings.database_url)
    await listener.add_listener(NOTIFY_CHANNEL, lambda *args: heard.put_nowait(args[2]))
    yield heard
    await listener.close()


async def insert(pool: asyncpg.Pool, count: int) -> None:
    """``count`` rows in one statement, as a group-committed batch writes them."""
    await pool.execute(
        "INSERT INTO outbox (topic, key, payload)"
        " SELECT 'message.scheduled', 'SM' || n, '{}'::bytea"
        " FROM generate_series(1, $1) AS n",
        count,
    )


async def heard_within(wakeups: asyncio.Queue[str]) -> bool:
    try:
        await asyncio.wait_for(wakeups.get(), QUIET_S)
    except TimeoutError:
        return False
    return True


async def test_a_batch_into_an_empty_outbox_wakes_the_relays(
    pool: asyncpg.Pool, wakeups: asyncio.Queue[str]
) -> None:
    """Once per quiet moment: rows behind older waiting rows send nothing."""
    await pool.execute("DELETE FROM outbox")

    await insert(pool, 5)
    assert await heard_within(wakeups)

    await insert(pool, 5)
    await insert(pool, 1)
    assert not await heard_within(wakeups)

    await pool.execute("DELETE FROM outbox")
    await insert(pool, 1)
    assert await heard_within(wakeups)
