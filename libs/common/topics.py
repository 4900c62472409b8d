"""The Kafka topics Pigeon uses, and ``python -m libs.common.topics`` to create them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from . import events
from .logs import configure_logging
from .settings import CommonSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int


_WEEK_MS = 7 * 24 * 3600 * 1000

TOPICS = (
    TopicSpec(events.MESSAGE_SCHEDULED, partitions=6, retention_ms=_WEEK_MS),
    TopicSpec(events.MESSAGE_DUE, partitions=6, retention_ms=_WEEK_MS),
    TopicSpec(events.MESSAGE_STATUS, partitions=6, retention_ms=_WEEK_MS),
    TopicSpec(events.LINK_CLICKED, partitions=6, retention_ms=_WEEK_MS),
    TopicSpec(events.DOMAIN_CERTIFICATE, partitions=1, retention_ms=_WEEK_MS),
)


def physical_name(settings: CommonSettings, topic: str) -> str:
    """The topic's name on the broker, after the deployment's prefix."""
    return settings.kafka_topic_prefix + topic


async def ensure_topics(settings: CommonSettings) -> list[str]:
    """Create every missing topic; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=physical_name(settings, spec.name),
                num_partitions=spec.partitions,
                replication_factor=settings.kafka_replication_factor,
                topic_configs={"retention.ms": str(spec.retention_ms)},
            )
            for spec in TOPICS
            if physical_name(settings, spec.name) not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                log.info("topics_created_concurrently")
        return [topic.name for topic in wanted]
    finally:
        await admin.close()


async def delete_topics(settings: CommonSettings) -> None:
    """Delete this deployment's topics (those under its prefix)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = [physical_name(settings, spec.name) for spec in TOPICS]
        present = [name for name in names if name in existing]
        if present:
            await admin.delete_topics(present)
    finally:
        await admin.close()


async def _main() -> None:
    settings = CommonSettings()
    configure_logging(settings.log_level, json=settings.log_json)
    created = await ensure_topics(settings)
    log.info("topics_ready", created=created)


if __name__ == "__main__":
    asyncio.run(_main())
