"""Kafka handlers: each event becomes at most one queued webhook delivery.

The destination is looked up and the row inserted in one transaction, and the
handler returns only after it commits, so Kafka's offset moves past an event
only once its webhook is durable.  The event id is the row's unique key, so a
redelivered event changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from libs.common.db import Pool, transaction
from libs.common.events import Event, LinkClicked, MessageStatusChanged

from . import metrics
from .deliveries import NewDelivery, enqueue
from .destinations import click_callback_url, status_target
from .payloads import (
    FORM_CONTENT_TYPE,
    JSON_CONTENT_TYPE,
    click_body,
    status_body,
)

log = structlog.get_logger(__name__)

CLICK = "click"
STATUS = "status"


class DeliveryRecorder:
    """Queues the webhook an event calls for, then calls ``on_queued``."""

    def __init__(self, pool: Pool, on_queued: Callable[[], None]) -> None:
        self._pool = pool
        self._on_queued = on_queued

    async def handle(self, event: Event) -> None:
        """Queue the event's webhook, if its account configured one."""
        if isinstance(event, LinkClicked):
            await self._record_click(event)
        elif isinstance(event, MessageStatusChanged):
            await self._record_status(event)
        else:
            log.debug("event_ignored", topic=event.topic)

    async def _record_click(self, event: LinkClicked) -> None:
        async with transaction(self._pool) as conn:
            url = await click_callback_url(conn, event.domain_sid, event.account_sid)
            if url is None:
                log.debug("click_without_callback", domain_sid=event.domain_sid)
                return
            delivery = NewDelivery(
                event_id=event.event_id,
                account_sid=event.account_sid,
                kind=CLICK,
                url=url,
                content_type=JSON_CONTENT_TYPE,
                body=click_body(event),
            )
            queued = await enqueue(conn, delivery)
        self._after_enqueue(delivery, queued)

    async def _record_status(self, event: MessageStatusChanged) -> None:
        async with transaction(self._pool) as conn:
            target = await status_target(conn, event.message_sid, event.account_sid)
            if target is None:
                log.debug("status_without_callback", message_sid=event.message_sid)
                return
            delivery = NewDelivery(
                event_id=event.event_id,
                account_sid=event.account_sid,
                kind=STATUS,
                url=target.url,
                content_type=FORM_CONTENT_TYPE,
                body=status_body(event, target.parties),
            )
            queued = await enqueue(conn, delivery)
        self._after_enqueue(delivery, queued)

    def _after_enqueue(self, delivery: NewDelivery, queued: bool) -> None:
        event_id = str(delivery.event_id)
        if not queued:
            log.debug("delivery_already_queued", event_id=event_id)
            return
        metrics.ENQUEUED.labels(delivery.kind).inc()
        log.debug("delivery_queued", event_id=event_id, kind=delivery.kind)
        self._on_queued()
