"""In-memory timers fire in order, never early, and retry claims refused as early."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
import pytest

from services.scheduler import scheduler as scheduler_module
from services.scheduler.scheduler import Scheduler
from services.scheduler.timers import DueTimers


async def test_timers_fire_in_send_at_order_and_not_early() -> None:
    """Timers added out of order fire in instant order, each after its instant."""
    fired: list[tuple[str, datetime]] = []
    done = asyncio.Event()

    async def fire(sids: list[str]) -> None:
        fired.extend((sid, datetime.now(UTC)) for sid in sids)
        if len(fired) == 3:
            done.set()

    timers = DueTimers(fire)
    runner = asyncio.create_task(timers.run())
    start = datetime.now(UTC)
    instants = {
        "third": start + timedelta(milliseconds=300),
        "first": start + timedelta(milliseconds=100),
        "second": start + timedelta(milliseconds=200),
    }
    for sid, instant in instants.items():
        timers.add(sid, instant)
    await asyncio.wait_for(done.wait(), 5)
    runner.cancel()
    assert [sid for sid, _ in fired] == ["first", "second", "third"]
    assert all(at >= instants[sid] for sid, at in fired)


async def test_a_claim_refused_as_early_is_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database refuses the first claim as early; the timer is set again.

    Nothing else adds the timer back (no sweep runs), so the second claim
    happens only because the scheduler asked when the message will be due.
    """
    attempts: list[list[str]] = []
    claimed = asyncio.Event()

    async def claim_due(_: asyncpg.Pool, sids: list[str]) -> list[str]:
        attempts.append(sids)
        if len(attempts) == 1:
            return []
        claimed.set()
        return sids

    async def seconds_until_due(_: asyncpg.Pool, sids: list[str]) -> dict[str, float]:
        return {sid: 0.1 for sid in sids}

    monkeypatch.setattr(scheduler_module, "claim_due", claim_due)
    monkeypatch.setattr(scheduler_module, "seconds_until_due", seconds_until_due)
    scheduler = Scheduler(cast(asyncpg.Pool, None), horizon_s=120)
    runner = asyncio.create_task(scheduler.timers.run())
    scheduler.timers.add("SMearly", datetime.now(UTC))
    try:
        await asyncio.wait_for(claimed.wait(), 5)
    finally:
        runner.cancel()
    assert attempts == [["SMearly"], ["SMearly"]]
