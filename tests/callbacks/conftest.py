"""Rows, a webhook receiver and service settings for the callbacks tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from libs.common.crypto import KeyRing
from libs.common.kafka import EventProducer
from libs.common.settings import CommonSettings
from services.callbacks.settings import CallbacksSettings
from tests.support.receiver import Receiver

from .records import UNREACHABLE_URL

# Small enough that retries finish within a test; the lease still outlasts
# an attempt, as the settings require.
FAST_DELIVERY = {
    "webhook_connect_timeout_s": 1.0,
    "webhook_read_timeout_s": 1.0,
    "webhook_total_timeout_s": 2.0,
    "webhook_backoff_initial_s": 0.1,
    "webhook_backoff_max_s": 0.4,
    "webhook_max_attempts": 5,
    "webhook_claim_lease_s": 3.0,
    "webhook_poll_interval_s": 0.2,
}
LOOPBACK_V4 = "127.0.0.0/8"


@pytest.fixture(scope="session")
def keyring(master_key: str) -> KeyRing:
    return KeyRing.parse(master_key)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A local webhook endpoint on 127.0.0.1, answering 200 unless told."""
    endpoint = Receiver()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


@pytest.fixture(scope="session")
async def producer(settings: CommonSettings) -> AsyncIterator[EventProducer]:
    """Publishes events to this session's topics."""
    publisher = EventProducer(settings)
    await publisher.start()
    yield publisher
    await publisher.stop()


@pytest.fixture(scope="session")
def callbacks_env(service_env: dict[str, str]) -> dict[str, str]:
    """Environment for a callbacks process that may reach 127.0.0.0/8."""
    env = dict(service_env)
    env.update(
        {f"PIGEON_{name.upper()}": str(value) for name, value in FAST_DELIVERY.items()}
    )
    env["PIGEON_WEBHOOK_ALLOWED_CIDRS"] = LOOPBACK_V4
    env.pop("PIGEON_HEALTH_PORT", None)
    return env


@pytest.fixture
def callbacks_settings(settings: CommonSettings) -> CallbacksSettings:
    """In-process settings on this session's database, with no allowed range."""
    return CallbacksSettings(
        database_url=settings.database_url,
        kafka_topic_prefix=settings.kafka_topic_prefix,
        master_key=settings.master_key,
        **FAST_DELIVERY,  # type: ignore[arg-type]
    )


@pytest.fixture
async def clean_deliveries(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """Leave no row to ``UNREACHABLE_URL`` for a later service process."""
    yield
    await pool.execute("DELETE FROM webhook_deliveries WHERE url = $1", UNREACHABLE_URL)
