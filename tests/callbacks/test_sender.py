"""One attempt against a real HTTP endpoint: how each answer is classified."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from ipaddress import ip_network

import asyncpg
import pytest
from aiohttp import web

from libs.common.crypto import KeyRing
from services.callbacks.deliveries import Delivery
from services.callbacks.guard import AddressPolicy
from services.callbacks.payloads import JSON_CONTENT_TYPE
from services.callbacks.sender import (
    AttemptResult,
    Outcome,
    WebhookSender,
    create_session,
)
from services.callbacks.settings import CallbacksSettings
from services.callbacks.tokens import AuthTokens
from tests.support.processes import free_port

from .records import insert_account

# Longer than the read timeout of the test settings.
HANG_S = 3.0


class Endpoint:
    """Answers ``/ok`` with 200, ``/moved`` with a redirect, ``/hang`` never."""

    def __init__(self) -> None:
        self.port = free_port()
        self.paths: list[str] = []
        app = web.Application()
        app.router.add_post("/{name}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> None:
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path)
        if request.path == "/moved":
            raise web.HTTPFound(self.url("/ok"))
        if request.path == "/hang":
            await asyncio.sleep(HANG_S)
        return web.Response(text="thanks" * 100_000)


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    served = Endpoint()
    await served.start()
    yield served
    await served.stop()


@pytest.fixture
async def account_sid(pool: asyncpg.Pool, keyring: KeyRing) -> str:
    sid, _ = await insert_account(pool, keyring)
    return sid


async def attempt(
    settings: CallbacksSettings,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    account_sid: str,
    url: str,
) -> AttemptResult:
    """Send one click-shaped delivery to ``url``, loopback allowed."""
    policy = AddressPolicy([ip_network("127.0.0.0/8")])
    tokens = AuthTokens(pool, keyring, ttl_s=60.0)
    delivery = Delivery(
        1, uuid.uuid4(), account_sid, "click", url, JSON_CONTENT_TYPE, b"{}", 1
    )
    async with create_session(settings, policy) as session:
        sender = WebhookSender(session, tokens, policy, settings)
        return await sender.send(delivery)


async def test_success_is_delivered_with_a_capped_read(
    callbacks_settings: CallbacksSettings,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    account_sid: str,
    endpoint: Endpoint,
) -> None:
    """A 200 with a large body counts as delivered; the body is not needed."""
    result = await attempt(
        callbacks_settings, pool, keyring, account_sid, endpoint.url("/ok")
    )

    assert result == AttemptResult(Outcome.DELIVERED, "HTTP 200", 200)


async def test_redirect_is_not_followed(
    callbacks_settings: CallbacksSettings,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    account_sid: str,
    endpoint: Endpoint,
) -> None:
    """A 302 is a failed attempt, and its Location is never requested."""
    result = await attempt(
        callbacks_settings, pool, keyring, account_sid, endpoint.url("/moved")
    )

    assert (result.outcome, result.status) == (Outcome.RETRY, 302)
    assert endpoint.paths == ["/moved"]


async def test_slow_receiver_times_out_and_is_retried(
    callbacks_settings: CallbacksSettings,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    account_sid: str,
    endpoint: Endpoint,
) -> None:
    """An answer slower than the read timeout ends the attempt as retryable."""
    result = await attempt(
        callbacks_settings, pool, keyring, account_sid, endpoint.url("/hang")
    )

    assert result == AttemptResult(Outcome.RETRY, "timed out")


async def test_refused_connection_is_retried(
    callbacks_settings: CallbacksSettings,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    account_sid: str,
) -> None:
    """Nothing listening is a passing failure, not a permanent one."""
    url = f"http://127.0.0.1:{free_port()}/gone"

    result = await attempt(callbacks_settings, pool, keyring, account_sid, url)

    assert result.outcome is Outcome.RETRY


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:10.0.0.1]/hook",
        "ftp://127.0.0.1/hook",
        "http://2130706433/hook",
    ],
)
async def test_forbidden_destinations_are_refused_for_good(
    callbacks_settings: CallbacksSettings,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    account_sid: str,
    url: str,
) -> None:
    """Metadata, private literals, odd schemes and numeric hosts are refused."""
    result = await attempt(callbacks_settings, pool, keyring, account_sid, url)

    assert result.outcome is Outcome.REFUSED
