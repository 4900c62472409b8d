"""Fixtures for tests that need the real infrastructure.

Kafka and PostgreSQL come from ``deploy/local/pigeon-local infra-up`` (the test
command starts them).  Each test session gets its own database and its own
topic prefix, so runs never see each other's rows or events.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from libs.common.crypto import generate_master_key
from libs.common.migrate import apply_migrations
from libs.common.settings import CommonSettings
from libs.common.topics import ensure_topics

from .support.processes import free_port


@pytest.fixture(scope="session")
def session_tag() -> str:
    """A short random tag naming this session's database and topics."""
    return secrets.token_hex(4)


@pytest.fixture(scope="session")
def admin_database_url() -> str:
    """The URL of the local stack's database, used to create test databases."""
    return CommonSettings().database_url


@pytest.fixture(scope="session")
async def database_url(admin_database_url: str, session_tag: str) -> AsyncIterator[str]:
    """A fresh database with every migration applied, dropped afterwards."""
    name = f"pigeon_test_{session_tag}"
    admin = await asyncpg.connect(admin_database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(admin_database_url)._replace(path=f"/{name}"))
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()
    yield url
    admin = await asyncpg.connect(admin_database_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def master_key() -> str:
    return generate_master_key("test1")


@pytest.fixture(scope="session")
async def settings(
    database_url: str, session_tag: str, master_key: str
) -> CommonSettings:
    """Settings pointing at this session's database and topic prefix."""
    common = CommonSettings(
        database_url=database_url,
        kafka_topic_prefix=f"test-{session_tag}.",
        master_key=master_key,  # type: ignore[arg-type]
        log_json=True,
    )
    await ensure_topics(common)
    return common


@pytest.fixture(scope="session")
def service_env(settings: CommonSettings) -> dict[str, str]:
    """Environment for a service started as its own process."""
    env = dict(os.environ)
    env.update(
        PIGEON_DATABASE_URL=settings.database_url,
        PIGEON_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        PIGEON_KAFKA_TOPIC_PREFIX=settings.kafka_topic_prefix,
        PIGEON_MASTER_KEY=settings.master_key.get_secret_value(),
        PIGEON_LOG_LEVEL="DEBUG",
        PIGEON_HEALTH_PORT=str(free_port()),
    )
    return env


@pytest.fixture
async def pool(settings: CommonSettings) -> AsyncIterator[asyncpg.Pool]:
    """A connection pool on this session's database."""
    created = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    assert created is not None
    yield created
    await created.close()
