"""Wiring of the redirector: acquire in order, release in reverse.

Startup opens the health endpoint (not ready yet), the database pool, the
Kafka producer for clicks, and the certificate event consumer, positioned
before the certificates are read from the database so that no change slips
between the two; then it starts the background tasks and the HTTPS and HTTP
listeners, and only then reports ready.  On SIGTERM it reports not ready, lets
the listeners finish requests in flight, flushes pending click events, and
closes the rest in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from aiohttp import web

from libs.common.broadcast import BroadcastConsumer
from libs.common.crypto import KeyRing
from libs.common.db import create_pool
from libs.common.events import DOMAIN_CERTIFICATE, CertificateChanged, Event
from libs.common.kafka import EventProducer
from libs.common.service import start_health_server, wait_for_stop

from .app import create_app
from .certificates import CertificateRepository, CertificateSync
from .clicks import ClickPublisher
from .links import LinkDirectory, LinkRepository
from .settings import RedirectorSettings
from .tls import CertificateStore

log = structlog.get_logger(__name__)

Tasks = list[asyncio.Task[None]]


class Readiness:
    """Whether the service should receive traffic; read by ``/healthz``."""

    def __init__(self) -> None:
        self.ready = False

    def is_ready(self) -> bool:
        return self.ready


async def serve(settings: RedirectorSettings, stop: asyncio.Event) -> None:
    """Serve short links until ``stop`` is set, then drain."""
    readiness = Readiness()
    async with contextlib.AsyncExitStack() as stack:
        tasks = await _start(settings, stack, readiness)
        readiness.ready = True
        log.info(
            "redirector_ready",
            https_port=settings.redirector_https_port,
            http_port=settings.redirector_http_port,
        )
        await wait_for_stop(stop, tasks)
        readiness.ready = False


async def _start(
    settings: RedirectorSettings, stack: contextlib.AsyncExitStack, readiness: Readiness
) -> Tasks:
    keyring = KeyRing.parse(settings.master_key.get_secret_value())
    health = await start_health_server(settings, readiness.is_ready)
    stack.push_async_callback(health.cleanup)
    pool = await create_pool(settings)
    stack.push_async_callback(pool.close)
    clicks = await _start_clicks(settings, stack)
    store = CertificateStore()
    repository = LinkRepository(pool, timeout_s=settings.database_timeout_s)
    directory = LinkDirectory(repository, settings)
    tasks = await _start_certificates(settings, stack, pool, keyring, store, directory)
    app = create_app(directory, clicks, store)
    await _start_listeners(settings, stack, app, store)
    return tasks


async def _start_clicks(
    settings: RedirectorSettings, stack: contextlib.AsyncExitStack
) -> ClickPublisher:
    producer = EventProducer(settings)
    await producer.start()
    stack.push_async_callback(producer.stop)
    clicks = ClickPublisher(producer, max_pending=settings.max_pending_clicks)
    stack.push_async_callback(clicks.flush, settings.click_flush_s)
    return clicks


async def _start_certificates(
    settings: RedirectorSettings,
    stack: contextlib.AsyncExitStack,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    store: CertificateStore,
    directory: LinkDirectory,
) -> Tasks:
    repository = CertificateRepository(pool, timeout_s=settings.database_timeout_s)
    sync = CertificateSync(
        repository,
        keyring,
        store,
        timedelta(days=settings.certificate_expiry_warning_days),
    )

    async def on_domain_event(event: Event) -> None:
        await sync.on_event(event)
        # A domain that lost its verification or was deleted stops resolving
        # its links now, not when their cache entries expire.
        if isinstance(event, CertificateChanged) and event.action in (
            "unverified",
            "deleted",
        ):
            directory.forget_domain(event.domain_name)

    events = BroadcastConsumer(settings, (DOMAIN_CERTIFICATE,), on_domain_event)
    await events.start()
    stack.push_async_callback(events.stop)
    await sync.sync_all()
    interval_s = settings.certificate_resync_interval_s
    return [
        await stack.enter_async_context(
            _background(events.run(), "certificate_events")
        ),
        await stack.enter_async_context(
            _background(sync.resync_forever(interval_s), "certificate_resync")
        ),
    ]


async def _start_listeners(
    settings: RedirectorSettings,
    stack: contextlib.AsyncExitStack,
    app: web.Application,
    store: CertificateStore,
) -> None:
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=settings.request_drain_s
    )
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    host = settings.redirector_host
    https_port = settings.redirector_https_port
    secure = web.TCPSite(runner, host, https_port, ssl_context=store.server_context)
    await secure.start()
    await web.TCPSite(runner, host, settings.redirector_http_port).start()


@contextlib.asynccontextmanager
async def _background(
    work: Coroutine[Any, Any, None], name: str
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(work, name=name)
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.wait([task])
