"""A shop's rows, a redirector process serving them, and the clicks it emits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import trustme

from libs.common.broadcast import BroadcastConsumer
from libs.common.crypto import KeyRing
from libs.common.events import LINK_CLICKED, Event, LinkClicked
from libs.common.settings import CommonSettings
from tests.support.processes import ServiceProcess, free_port

from . import records

DOMAIN = "ls.owlshoes.test"
PLAIN_DOMAIN = "owl.test"
FALLBACK_URL = "https://whoops.owlshoes.test/?from=sms"
EVENT_TIMEOUT_S = 15.0
LINK_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class Shop:
    """The rows of one shop: an HTTPS domain, a plain-HTTP domain, a message."""

    account_sid: str
    domain_sid: str
    plain_domain_sid: str
    message_sid: str


@dataclass(frozen=True)
class Redirector:
    """Where the redirector process under test listens."""

    https_port: int
    http_port: int
    health_port: int


class ClickLog:
    """Every ``link.clicked`` event published while the log listens."""

    def __init__(self) -> None:
        self.events: list[LinkClicked] = []
        self._arrived = asyncio.Condition()

    async def record(self, event: Event) -> None:
        assert isinstance(event, LinkClicked)
        async with self._arrived:
            self.events.append(event)
            self._arrived.notify_all()

    def for_code(self, code: str) -> list[LinkClicked]:
        return [event for event in self.events if event.code == code]

    async def wait_for(self, code: str) -> LinkClicked:
        """The first click on ``code``, waiting for it if need be."""
        async with asyncio.timeout(EVENT_TIMEOUT_S), self._arrived:
            await self._arrived.wait_for(lambda: bool(self.for_code(code)))
        return self.for_code(code)[0]


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The certificate authority the test clients trust."""
    return trustme.CA()


@pytest.fixture(scope="session")
def keyring(master_key: str) -> KeyRing:
    return KeyRing.parse(master_key)


@pytest.fixture(scope="session")
async def shop(settings: CommonSettings, keyring: KeyRing, ca: trustme.CA) -> Shop:
    """Owl Shoes with its domains, one message and the HTTPS domain's certificate."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        account_sid = await records.insert_account(conn, keyring)
        domain_sid = await records.insert_domain(
            conn, account_sid, DOMAIN, fallback_url=FALLBACK_URL
        )
        plain_sid = await records.insert_domain(
            conn, account_sid, PLAIN_DOMAIN, disable_https=True
        )
        message_sid = await records.insert_message(conn, account_sid)
        await records.store_certificate(
            conn, keyring, domain_sid, ca.issue_cert(DOMAIN)
        )
    finally:
        await conn.close()
    return Shop(account_sid, domain_sid, plain_sid, message_sid)


class Links:
    """Inserts short links for the shop's message."""

    def __init__(self, pool: asyncpg.Pool, shop: Shop) -> None:
        self._pool = pool
        self._shop = shop

    async def add(
        self,
        url: str,
        *,
        expires_in: timedelta = LINK_LIFETIME,
        domain_sid: str | None = None,
    ) -> str:
        """A new link's code; it expires ``expires_in`` from now."""
        return await records.insert_link(
            self._pool,
            domain_sid=domain_sid or self._shop.domain_sid,
            message_sid=self._shop.message_sid,
            account_sid=self._shop.account_sid,
            url=url,
            expires_at=datetime.now(UTC) + expires_in,
        )


@pytest.fixture
def links(pool: asyncpg.Pool, shop: Shop) -> Links:
    return Links(pool, shop)


@pytest.fixture(scope="module")
async def redirector(
    shop: Shop, service_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Redirector]:
    """The redirector in its own process; it must exit cleanly on SIGTERM."""
    env = dict(service_env)
    https_port, http_port = free_port(), free_port()
    env.update(
        PIGEON_REDIRECTOR_HTTPS_PORT=str(https_port),
        PIGEON_REDIRECTOR_HTTP_PORT=str(http_port),
        # Certificate changes must arrive by event, not by the periodic re-sync.
        PIGEON_CERTIFICATE_RESYNC_INTERVAL_S="3600",
    )
    process = ServiceProcess("services.redirector", env, tmp_path_factory.mktemp("log"))
    process.start()
    try:
        await process.wait_healthy()
        yield Redirector(https_port, http_port, process.health_port)
    finally:
        exit_code = process.stop()
    assert exit_code == 0, process.log_tail()


@pytest.fixture(scope="module")
async def click_log(settings: CommonSettings) -> AsyncIterator[ClickLog]:
    """Collects click events published from now on."""
    log = ClickLog()
    consumer = BroadcastConsumer(settings, (LINK_CLICKED,), log.record)
    await consumer.start()
    task = asyncio.create_task(consumer.run())
    yield log
    task.cancel()
    await asyncio.wait([task])
    await consumer.stop()
