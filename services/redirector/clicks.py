"""Click events, published in the background so that a redirect never waits.

At most ``max_pending`` events are in flight; beyond that an event is dropped
and counted, so that a broker outage costs clicks rather than memory.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import structlog

from libs.common.events import LinkClicked
from libs.common.kafka import EventProducer

from .links import Link
from .metrics import CLICK_EVENTS

log = structlog.get_logger(__name__)


def click_event(
    link: Link, *, clicked_at: datetime, user_agent: str | None
) -> LinkClicked:
    """The ``link.clicked`` event for a recipient opening ``link``."""
    return LinkClicked(
        code=link.code,
        domain_sid=link.domain.sid,
        message_sid=link.message_sid,
        account_sid=link.account_sid,
        messaging_service_sid=link.messaging_service_sid,
        to=link.to,
        from_=link.from_,
        link=link.original_url,
        shortened_link=link.shortened_url,
        link_created_at=link.created_at,
        clicked_at=clicked_at,
        user_agent=user_agent,
    )


class ClickPublisher:
    """Publishes click events without making the caller wait for Kafka."""

    def __init__(self, producer: EventProducer, *, max_pending: int) -> None:
        self._producer = producer
        self._max_pending = max_pending
        self._pending: dict[asyncio.Task[None], LinkClicked] = {}

    @property
    def pending(self) -> int:
        """Events handed over and not yet acknowledged or failed."""
        return len(self._pending)

    def submit(self, event: LinkClicked) -> None:
        """Start publishing ``event`` and return at once."""
        if len(self._pending) >= self._max_pending:
            CLICK_EVENTS.labels("dropped").inc()
            log.warning("click_event_dropped", event_id=str(event.event_id))
            return
        task = asyncio.create_task(self._producer.publish(event))
        self._pending[task] = event
        task.add_done_callback(self._finished)

    async def flush(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for pending events, then abandon the rest."""
        if not self._pending:
            return
        _, unfinished = await asyncio.wait(set(self._pending), timeout=timeout_s)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)

    def _finished(self, task: asyncio.Task[None]) -> None:
        event = self._pending.pop(task)
        error = "abandoned at shutdown" if task.cancelled() else task.exception()
        if error is None:
            CLICK_EVENTS.labels("published").inc()
            return
        CLICK_EVENTS.labels("failed").inc()
        log.warning(
            "click_event_failed",
            event_id=str(event.event_id),
            message_sid=event.message_sid,
            error=str(error),
        )
