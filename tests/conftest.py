"""Fixtures for tests that need the real infrastructure.

Kafka and PostgreSQL come from ``deploy/local/pigeon-local infra-up`` (the test
command starts them).  Each test session gets its own database and its own
topic prefix, so runs never see each other's rows or events.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from libs.common.crypto import generate_master_key
from libs.common.settings import CommonSettings
from libs.common.topics import delete_topics, ensure_topics

from .support.dns import DnsServer, DnsZone
from .support.stack import create_database, drop_database

# Where branded domains must point in every test stack.
ROUTING_CNAME = "links.pigeon.test"
ROUTING_IPV4 = "127.0.0.1"
ROUTING_IPV6 = "::1"


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
    yield await create_database(admin_database_url, name)
    await drop_database(admin_database_url, name)


@pytest.fixture(scope="session")
def master_key() -> str:
    return generate_master_key("test1")


@pytest.fixture(scope="session")
async def settings(
    database_url: str, session_tag: str, master_key: str
) -> AsyncIterator[CommonSettings]:
    """Settings pointing at this session's database and topic prefix."""
    common = CommonSettings(
        database_url=database_url,
        kafka_topic_prefix=f"test-{session_tag}.",
        master_key=master_key,
        log_json=True,
    )
    await ensure_topics(common)
    yield common
    await delete_topics(common)


@pytest.fixture(scope="session")
async def dns_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[DnsServer]:
    """A DNS server of the tests' own on loopback, in its own process."""
    server = DnsServer(tmp_path_factory.mktemp("dns"))
    await server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dns_zone(dns_server: DnsServer) -> DnsZone:
    """The records the test DNS server answers with."""
    return dns_server.zone


@pytest.fixture(scope="session")
def service_env(settings: CommonSettings, dns_server: DnsServer) -> dict[str, str]:
    """Environment for a service started as its own process."""
    env = dict(os.environ)
    env.update(
        PIGEON_DATABASE_URL=settings.database_url,
        PIGEON_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        PIGEON_KAFKA_TOPIC_PREFIX=settings.kafka_topic_prefix,
        PIGEON_MASTER_KEY=settings.master_key.get_secret_value(),
        PIGEON_LOG_LEVEL="DEBUG",
        PIGEON_DNS_NAMESERVERS=dns_server.address,
        PIGEON_DNS_TIMEOUT_S="0.5",
        PIGEON_DNS_TRIES="1",
        PIGEON_ROUTING_CNAME=ROUTING_CNAME,
        PIGEON_ROUTING_IPV4=ROUTING_IPV4,
        PIGEON_ROUTING_IPV6=ROUTING_IPV6,
    )
    # Each ServiceProcess picks its own health port.
    env.pop("PIGEON_HEALTH_PORT", None)
    return env


@pytest.fixture
async def pool(settings: CommonSettings) -> AsyncIterator[asyncpg.Pool]:
    """A connection pool on this session's database."""
    created = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=4)
    assert created is not None
    yield created
    await created.close()
