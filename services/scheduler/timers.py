"""In-memory timers for messages due soon, fired in send-at order."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

Fire = Callable[[list[str]], Awaitable[None]]


class DueTimers:
    """A heap of ``(send_at, message sid)``; ``run`` fires them at their time.

    Every timer already due is fired in one call, so a burst of messages due at
    the same instant is claimed in one round trip.

    Firing early is impossible by construction: a timer is popped only once
    the wall clock has passed its instant, and the claim in PostgreSQL checks
    the database's clock again.
    """

    def __init__(self, fire: Fire) -> None:
        self._fire = fire
        self._heap: list[tuple[datetime, str]] = []
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        return len(self._heap)

    def add(self, sid: str, send_at: datetime) -> None:
        heapq.heappush(self._heap, (send_at, sid))
        self._changed.set()

    async def run(self) -> None:
        """Fire timers as they fall due, until cancelled."""
        while True:
            delay = self._seconds_to_next()
            self._changed.clear()
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), delay)
                continue
            await self._fire(self._pop_due())

    def _pop_due(self) -> list[str]:
        now = datetime.now(UTC)
        due = []
        while self._heap and self._heap[0][0] <= now:
            due.append(heapq.heappop(self._heap)[1])
        return due

    def _seconds_to_next(self) -> float | None:
        if not self._heap:
            return None
        return (self._heap[0][0] - datetime.now(UTC)).total_seconds()
