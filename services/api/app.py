"""The API's aiohttp application and its lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

import asyncpg
import structlog
from aiohttp import web

from libs.common.crypto import KeyRing
from libs.common.db import create_pool
from libs.common.kafka import EventProducer
from libs.common.outbox import OutboxRelay
from libs.common.relay import RelayProcess
from libs.common.service import start_health_server, wait_for_stop
from libs.common.ttlcache import TtlCache

from .auth import CREDENTIAL_CACHE, CredentialCache, basic_auth
from .context import (
    CREATE_BATCHER,
    KEYRING,
    POOL,
    RESOLVER,
    ROUTING,
    SENDING_CONTEXTS,
    SETTINGS,
)
from .dns_checks import Resolver, Routing
from .ingest import CreateBatcher
from .messages import prune_tokens_forever, write_row
from .middleware import twilio_errors
from .ratelimit import RATE_LIMITER, RateLimiter, rate_limit
from .routes import routes
from .settings import ApiSettings
from .verification import DomainWatcher

log = structlog.get_logger(__name__)

TOKEN_PRUNE_INTERVAL_S = 300.0


def routing_of(settings: ApiSettings) -> Routing:
    """Where the operator wants branded domains to point."""
    return Routing(
        settings.routing_cname.rstrip(".").lower(),
        tuple(settings.routing_ipv4),
        tuple(settings.routing_ipv6),
    )


def resolver_of(settings: ApiSettings) -> Resolver:
    return Resolver(
        settings.dns_nameservers,
        timeout_s=settings.dns_timeout_s,
        tries=settings.dns_tries,
    )


def create_app(
    settings: ApiSettings, pool: asyncpg.Pool, keyring: KeyRing, resolver: Resolver
) -> web.Application:
    """The REST application; the caller owns the pool and the resolver."""
    app = web.Application(
        middlewares=[twilio_errors, basic_auth, rate_limit],
        client_max_size=settings.max_request_bytes,
    )
    app[SETTINGS] = settings
    app[POOL] = pool
    app[KEYRING] = keyring
    app[RESOLVER] = resolver
    app[ROUTING] = routing_of(settings)
    app[CREATE_BATCHER] = CreateBatcher(
        pool, partial(write_row, pool), max_batch=settings.create_batch_max
    )
    app[SENDING_CONTEXTS] = TtlCache(settings.sending_context_cache_ttl_s)
    app[CREDENTIAL_CACHE] = CredentialCache(settings.auth_cache_ttl_s)
    app[RATE_LIMITER] = RateLimiter(
        settings.rate_limit_per_s, settings.rate_limit_burst
    )
    app.add_routes(routes)
    return app


async def serve(settings: ApiSettings, stop: asyncio.Event) -> None:
    """Run the API and its outbox relay until ``stop`` is set."""
    keyring = KeyRing.parse(settings.master_key.get_secret_value())
    async with contextlib.AsyncExitStack() as stack:
        pool = await create_pool(settings)
        stack.push_async_callback(pool.close)
        relay = await _start_relay(settings, pool, stack)
        await _serve_requests(settings, stop, pool, keyring, relay)


async def _start_relay(
    settings: ApiSettings, pool: asyncpg.Pool, stack: contextlib.AsyncExitStack
) -> asyncio.Task[None]:
    """The task that publishes the API's events, as the settings place it."""
    if settings.outbox_relay == "inline":
        producer = EventProducer(settings)
        await producer.start()
        stack.push_async_callback(producer.stop)
        return asyncio.create_task(OutboxRelay(pool, producer).run(), name="relay")
    if settings.outbox_relay == "process":
        child = RelayProcess()
        await child.start()
        stack.push_async_callback(child.stop, settings.shutdown_grace_s)
        return asyncio.create_task(child.watch(), name="relay-process")
    return asyncio.create_task(_forever(), name="no-relay")


async def _forever() -> None:
    await asyncio.Event().wait()


async def _serve_requests(
    settings: ApiSettings,
    stop: asyncio.Event,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    relay: asyncio.Task[None],
) -> None:
    pruner = asyncio.create_task(
        prune_tokens_forever(
            pool, settings.idempotency_token_ttl_s, TOKEN_PRUNE_INTERVAL_S
        ),
        name="token-pruner",
    )
    resolver = resolver_of(settings)
    watcher = asyncio.create_task(
        DomainWatcher(
            pool,
            resolver,
            routing_of(settings),
            interval_s=settings.domain_check_interval_s,
            poll_s=settings.domain_check_poll_s,
            batch=settings.domain_check_batch,
        ).run(),
        name="domain-watcher",
    )
    app = create_app(settings, pool, keyring, resolver)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.api_host, settings.api_port).start()
    health = await start_health_server(settings, ready=lambda: True)
    log.info("api_listening", host=settings.api_host, port=settings.api_port)
    try:
        await wait_for_stop(stop, [relay, pruner, watcher])
    finally:
        await runner.cleanup()
        for task in (relay, pruner, watcher):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await health.cleanup()
