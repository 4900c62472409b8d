"""Wiring of the scheduler process: timers, recovery sweep and dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import structlog

from libs.common import events
from libs.common.db import create_pool
from libs.common.kafka import ConsumerOptions, EventConsumer, EventProducer
from libs.common.outbox import OutboxRelay
from libs.common.service import start_health_server, wait_for_stop

from .carriers import create_carrier
from .dispatcher import Dispatcher
from .scheduler import Scheduler
from .settings import SchedulerSettings

log = structlog.get_logger(__name__)


async def serve(settings: SchedulerSettings, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set, then release in reverse order."""
    pool = await create_pool(settings)
    producer = EventProducer(settings)
    await producer.start()
    carrier = create_carrier(settings)
    scheduler = Scheduler(pool, settings.timer_horizon_s)
    dispatcher = Dispatcher(
        pool, carrier, settings.short_link_ttl_days, settings.carrier_concurrency
    )
    consumers = [
        EventConsumer(
            settings,
            ConsumerOptions("scheduler", (events.MESSAGE_SCHEDULED,)),
            scheduler.handle,
        ),
        EventConsumer(
            settings,
            ConsumerOptions("dispatcher", (events.MESSAGE_DUE,)),
            batch_handler=dispatcher.handle_batch,
        ),
    ]
    for consumer in consumers:
        await consumer.start()
    await scheduler.sweep()
    work: list[Coroutine[Any, Any, None]] = [
        OutboxRelay(pool, producer).run(),
        scheduler.timers.run(),
        scheduler.sweep_forever(settings.sweep_interval_s),
        *(consumer.run() for consumer in consumers),
    ]
    tasks = [asyncio.create_task(job) for job in work]
    health = await start_health_server(settings, ready=lambda: True)
    log.info("scheduler_running", timers=len(scheduler.timers))
    try:
        await wait_for_stop(stop, tasks)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await health.cleanup()
        for consumer in reversed(consumers):
            await consumer.stop()
        await carrier.close()
        await producer.stop()
        await pool.close()
