"""Kafka producer and consumer adapters; aiokafka errors stop here.

The producer is idempotent and waits for every in-sync replica.  The consumer
hands each event to a handler and commits its offset only after the handler
has returned, so an effect is durable before Kafka forgets the event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from .errors import PermanentError, RetryableError
from .events import EVENT_TYPES, Event
from .settings import CommonSettings
from .topics import physical_name

log = structlog.get_logger(__name__)

Handler = Callable[[Event], Awaitable[None]]
BatchHandler = Callable[[list[Event]], Awaitable[None]]

DEFAULT_RETRY_INITIAL_S = 0.2
DEFAULT_RETRY_MAX_S = 10.0


class EventProducer:
    """Publishes events; ``publish`` returns once the broker has them."""

    def __init__(self, settings: CommonSettings) -> None:
        self._settings = settings
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            enable_idempotence=True,
            acks="all",
            linger_ms=1,
            request_timeout_ms=settings.kafka_request_timeout_ms,
        )

    async def start(self) -> None:
        try:
            await self._producer.start()
        except KafkaError as exc:
            raise RetryableError(f"kafka unavailable: {exc}") from exc

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish_raw(self, topic: str, key: str, payload: bytes) -> None:
        """Send one record and wait for its acknowledgement."""
        name = physical_name(self._settings, topic)
        try:
            await self._producer.send_and_wait(name, payload, key=key.encode())
        except KafkaError as exc:
            raise RetryableError(f"kafka refused {topic}: {exc}") from exc

    async def publish_many(self, records: Iterable[tuple[str, str, bytes]]) -> None:
        """Send records in order and wait until every one is acknowledged."""
        try:
            pending = [
                await self._producer.send(
                    physical_name(self._settings, topic), payload, key=key.encode()
                )
                for topic, key, payload in records
            ]
            await asyncio.gather(*pending)
        except KafkaError as exc:
            raise RetryableError(f"kafka refused a batch: {exc}") from exc

    async def publish(self, event: Event) -> None:
        await self.publish_raw(event.topic, event.key(), event.to_bytes())

    def publish_nowait(self, event: Event) -> asyncio.Future[object]:
        """Queue an event without waiting; the returned future tells the outcome."""
        name = physical_name(self._settings, event.topic)
        send = self._producer.send_and_wait(
            name, event.to_bytes(), key=event.key().encode()
        )
        future: asyncio.Future[object] = asyncio.ensure_future(send)
        return future


@dataclass(frozen=True)
class ConsumerOptions:
    group_id: str
    topics: tuple[str, ...]
    max_records: int = 100
    fetch_max_wait_ms: int = 100
    # Records of one partition handled at once; 1 keeps them strictly in order.
    concurrency: int = 1
    retry_initial_s: float = DEFAULT_RETRY_INITIAL_S
    retry_max_s: float = DEFAULT_RETRY_MAX_S


class EventConsumer:
    """Runs a handler over a consumer group's events, committing after it.

    ``handler`` takes one event at a time (``options.concurrency`` of them at
    once per partition); ``batch_handler`` takes each partition's fetched batch
    whole, for work that is cheaper in bulk.  Either way the partition's offset
    is committed only once the handler has returned for every event in it.
    """

    def __init__(
        self,
        settings: CommonSettings,
        options: ConsumerOptions,
        handler: Handler | None = None,
        *,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler and batch_handler")
        self._settings = settings
        self._options = options
        self._handler = handler
        self._batch_handler = batch_handler
        self._consumer = AIOKafkaConsumer(
            *(physical_name(settings, t) for t in options.topics),
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=physical_name(settings, options.group_id),
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=options.fetch_max_wait_ms,
            max_poll_records=options.max_records,
            request_timeout_ms=settings.kafka_request_timeout_ms,
        )
        self._log = log.bind(group=options.group_id)

    async def start(self) -> None:
        try:
            await self._consumer.start()
        except KafkaError as exc:
            raise RetryableError(f"kafka unavailable: {exc}") from exc

    async def stop(self) -> None:
        await self._consumer.stop()

    async def run(self) -> None:
        """Consume until cancelled."""
        while True:
            batches = await self._consumer.getmany(timeout_ms=1000)
            await asyncio.gather(
                *(
                    self._consume_partition(tp, records)
                    for tp, records in batches.items()
                )
            )

    async def _consume_partition(
        self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]
    ) -> None:
        """Handle a partition's batch, then commit past its last record."""
        events = [event for event in map(self._decode, records) if event is not None]
        if self._batch_handler is not None:
            if events:
                await self._with_retries(events, self._batch_handler)
        else:
            gate = asyncio.Semaphore(self._options.concurrency)
            await asyncio.gather(*(self._consume_one(event, gate) for event in events))
        await self._consumer.commit({tp: records[-1].offset + 1})

    async def _consume_one(self, event: Event, gate: asyncio.Semaphore) -> None:
        assert self._handler is not None
        handler = self._handler
        async with gate:
            await self._with_retries([event], lambda events: handler(events[0]))

    async def _with_retries(self, events: list[Event], handle: BatchHandler) -> None:
        """Run ``handle`` until it succeeds or refuses the events for good."""
        first = str(events[0].event_id)
        delay = self._options.retry_initial_s
        while True:
            try:
                await handle(events)
                return
            except RetryableError as exc:
                self._log.warning(
                    "event_retry",
                    event_id=first,
                    count=len(events),
                    error=str(exc),
                    delay=delay,
                )
            except PermanentError as exc:
                self._log.error(
                    "event_rejected", event_id=first, count=len(events), error=str(exc)
                )
                return
            except Exception:
                # A bug must not drop events: they stay uncommitted and are
                # retried, holding back only their own partition.
                self._log.exception("event_handler_failed", event_id=first)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._options.retry_max_s)

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
