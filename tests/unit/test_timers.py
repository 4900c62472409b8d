"""In-memory timers fire in order and never before their instant."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

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
