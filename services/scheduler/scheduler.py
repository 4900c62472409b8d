"""Durable timers: ``message.scheduled`` in, ``message.due`` out at ``SendAt``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from libs.common.errors import RetryableError
from libs.common.events import Event, MessageScheduled

from .claims import claim_due, pending_within, seconds_until_due
from .timers import DueTimers

log = structlog.get_logger(__name__)

RETRY_CLAIM_AFTER_S = 1.0
# A message the database found due a moment after refusing it is tried again
# after this, not at once, so a clock difference cannot make a busy loop.
MIN_RECLAIM_WAIT_S = 0.05
CLAIM_BATCH = 500


class Scheduler:
    """Keeps a timer for every message due within the horizon."""

    def __init__(self, pool: asyncpg.Pool, horizon_s: float) -> None:
        self._pool = pool
        self._horizon = timedelta(seconds=horizon_s)
        self.timers = DueTimers(self._fire)

    async def handle(self, event: Event) -> None:
        """Take a timer for a newly accepted message if it is due soon."""
        assert isinstance(event, MessageScheduled)
        send_at = event.send_at or datetime.now(UTC)
        if send_at - datetime.now(UTC) <= self._horizon:
            self.timers.add(event.message_sid, send_at)

    async def sweep(self) -> int:
        """Reload timers from PostgreSQL; covers restarts and lost events."""
        pending = await pending_within(self._pool, self._horizon.total_seconds())
        now = datetime.now(UTC)
        for sid, send_at in pending:
            self.timers.add(sid, send_at or now)
        log.debug("timers_swept", loaded=len(pending), held=len(self.timers))
        return len(pending)

    async def sweep_forever(self, interval_s: float) -> None:
        while True:
            try:
                await self.sweep()
            except RetryableError as exc:
                log.warning("sweep_failed", error=str(exc))
            await asyncio.sleep(interval_s)

    async def _fire(self, sids: list[str]) -> None:
        for start in range(0, len(sids), CLAIM_BATCH):
            await self._claim(sids[start : start + CLAIM_BATCH])

    async def _claim(self, batch: list[str]) -> None:
        """Claim ``batch``; those the database finds not yet due get a new timer."""
        try:
            claimed = await claim_due(self._pool, batch)
            unclaimed = sorted(set(batch) - set(claimed))
            early = await seconds_until_due(self._pool, unclaimed) if unclaimed else {}
        except RetryableError as exc:
            log.warning("claim_failed", count=len(batch), error=str(exc))
            self._retry(batch, RETRY_CLAIM_AFTER_S)
            return
        for sid in claimed:
            log.info("message_due", sid=sid)
        for sid, wait_s in early.items():
            log.debug("message_not_yet_due", sid=sid, wait_s=wait_s)
            self._retry([sid], max(wait_s, MIN_RECLAIM_WAIT_S))

    def _retry(self, sids: list[str], after_s: float) -> None:
        retry_at = datetime.now(UTC) + timedelta(seconds=after_s)
        for sid in sids:
            self.timers.add(sid, retry_at)
