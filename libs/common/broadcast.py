"""A Kafka consumer that gives every replica every event; aiokafka errors stop here.

Some events announce changes to state that each replica holds in memory, such
as a domain's certificate.  Such a consumer joins no group and commits
nothing: it reads every partition of its topics itself, starting at the end of
the log as it was when ``start`` returned.  A replica therefore loads the
current state on its own after ``start`` and uses events only to follow
changes; a handler must be idempotent, since the state may already include
the change an event announces.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from .errors import PigeonError, RetryableError
from .events import EVENT_TYPES, Event
from .kafka import Handler
from .settings import CommonSettings
from .topics import physical_name

log = structlog.get_logger(__name__)

DEFAULT_FETCH_MAX_WAIT_MS = 500
DEFAULT_POLL_TIMEOUT_MS = 1000
DEFAULT_FETCH_RETRY_S = 1.0


class BroadcastConsumer:
    """Hands each event published after ``start`` to ``handler``, in this process."""

    def __init__(
        self,
        settings: CommonSettings,
        topics: tuple[str, ...],
        handler: Handler,
        *,
        fetch_max_wait_ms: int = DEFAULT_FETCH_MAX_WAIT_MS,
    ) -> None:
        self._settings = settings
        self._handler = handler
        self._consumer = AIOKafkaConsumer(
            *(physical_name(settings, topic) for topic in topics),
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=fetch_max_wait_ms,
            request_timeout_ms=settings.kafka_request_timeout_ms,
        )
        self._log = log.bind(topics=list(topics))

    async def start(self) -> None:
        """Connect, and fix the starting point at the end of every partition."""
        try:
            await self._consumer.start()
            for partition in self._consumer.assignment():
                await self._consumer.position(partition)
        except KafkaError as exc:
            await self._consumer.stop()
            raise RetryableError(f"kafka unavailable: {exc}") from exc

    async def stop(self) -> None:
        await self._consumer.stop()

    async def run(self) -> None:
        """Consume until cancelled; an event whose handler fails is logged, skipped."""
        while True:
            for record in await self._fetch():
                await self._deliver(record)

    async def _fetch(self) -> list[ConsumerRecord[bytes, bytes]]:
        try:
            batches = await self._consumer.getmany(timeout_ms=DEFAULT_POLL_TIMEOUT_MS)
        except KafkaError as exc:
            self._log.warning("broadcast_fetch_failed", error=str(exc))
            await asyncio.sleep(DEFAULT_FETCH_RETRY_S)
            return []
        return [record for records in batches.values() for record in records]

    async def _deliver(self, record: ConsumerRecord[bytes, bytes]) -> None:
        event = self._decode(record)
        if event is None:
            return
        try:
            await self._handler(event)
        except PigeonError as exc:
            self._log.warning(
                "broadcast_event_failed", event_id=str(event.event_id), error=str(exc)
            )

    def _decode(self, record: ConsumerRecord[bytes, bytes]) -> Event | None:
        logical = record.topic.removeprefix(self._settings.kafka_topic_prefix)
        event_type = EVENT_TYPES.get(logical)
        if event_type is None or record.value is None:
            self._log.error("event_unknown_topic", topic=record.topic)
            return None
        try:
            return event_type.from_bytes(record.value)
        except ValidationError as exc:
            self._log.error(
                "event_malformed",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error=str(exc),
            )
            return None
