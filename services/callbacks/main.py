"""Wiring of the callbacks service: resources in order, work, release in reverse."""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from libs.common.crypto import KeyRing
from libs.common.db import create_pool
from libs.common.events import LINK_CLICKED, MESSAGE_STATUS
from libs.common.kafka import ConsumerOptions, EventConsumer
from libs.common.service import start_health_server

from .consumers import DeliveryRecorder
from .guard import AddressPolicy
from .retry import RetryPolicy
from .sender import WebhookSender, create_session
from .settings import CallbacksSettings
from .tokens import AuthTokens
from .worker import DeliveryWorker

log = structlog.get_logger(__name__)

SERVICE_NAME = "callbacks"
CONSUMER_OPTIONS = ConsumerOptions(
    group_id="callbacks", topics=(LINK_CLICKED, MESSAGE_STATUS)
)


async def serve(settings: CallbacksSettings, stop: asyncio.Event) -> None:
    """Consume events and deliver webhooks until ``stop``, then drain."""
    keyring = KeyRing.parse(settings.master_key.get_secret_value())
    policy = AddressPolicy(settings.webhook_allowed_cidrs)
    async with contextlib.AsyncExitStack() as resources:
        pool = await create_pool(settings)
        resources.push_async_callback(pool.close)
        session = await resources.enter_async_context(create_session(settings, policy))
        tokens = AuthTokens(pool, keyring, settings.webhook_token_cache_ttl_s)
        sender = WebhookSender(session, tokens, policy, settings)
        retry = RetryPolicy.from_settings(settings)
        worker = DeliveryWorker(pool, sender, retry, settings)
        recorder = DeliveryRecorder(pool, worker.wake)
        consumer = EventConsumer(settings, CONSUMER_OPTIONS, recorder.handle)
        await consumer.start()
        resources.push_async_callback(consumer.stop)
        health = await start_health_server(settings, lambda: True)
        resources.push_async_callback(health.cleanup)
        log.info(
            "callbacks_ready",
            concurrency=settings.webhook_concurrency,
            allowed_cidrs=[str(network) for network in policy.allowed],
        )
        await _work_until(stop, consumer, worker)


async def _work_until(
    stop: asyncio.Event, consumer: EventConsumer, worker: DeliveryWorker
) -> None:
    """Run both loops; on ``stop`` take no new events and finish in-flight POSTs."""
    async with asyncio.TaskGroup() as tasks:
        consuming = tasks.create_task(consumer.run())
        tasks.create_task(worker.run(stop))
        await stop.wait()
        consuming.cancel()
