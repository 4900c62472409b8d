"""What survives crashes, what several replicas share, and what is never sent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
from aiohttp import web

from libs.common.crypto import KeyRing
from libs.common.kafka import EventProducer
from services.callbacks.sender import IDEMPOTENCY_HEADER
from tests.support.processes import ServiceProcess
from tests.support.receiver import Receiver

from .records import click, insert_shop
from .service import running_callbacks, wait_for_state

REPLICA_EVENTS = 30
# The receiver answers slowly so that both replicas have work in flight.
SLOW_ANSWER_S = 0.05
# Well inside the service's read timeout and shutdown grace.
DRAIN_ANSWER_S = 0.8
QUIET_PERIOD_S = 1.5
ALWAYS = [500] * 1000


class SlowReceiver(Receiver):
    """A receiver that takes ``answer_s`` over every answer."""

    def __init__(self, answer_s: float) -> None:
        super().__init__()
        self.answer_s = answer_s
        self.started = asyncio.Event()

    async def _record(self, request: web.Request) -> web.Response:
        self.started.set()
        await asyncio.sleep(self.answer_s)
        return await super()._record(request)


async def test_loopback_callback_is_not_contacted_without_an_allowance(
    pool: asyncpg.Pool,
    keyring: KeyRing,
    producer: EventProducer,
    receiver: Receiver,
    callbacks_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """A name resolving to loopback is refused for good and never connected to."""
    env = {**callbacks_env, "PIGEON_WEBHOOK_ALLOWED_CIDRS": ""}
    url = f"http://localhost:{receiver.port}/blocked"
    shop = await insert_shop(pool, keyring, click_url=url)
    event = click(shop)

    async with running_callbacks(env, tmp_path):
        await producer.publish(event)
        failed = await wait_for_state(pool, event.event_id, "failed")

    assert failed["attempts"] == 1
    assert "may not reach" in failed["last_error"]
    assert receiver.requests == []


async def test_killed_process_loses_nothing(
    pool: asyncpg.Pool,
    keyring: KeyRing,
    producer: EventProducer,
    receiver: Receiver,
    callbacks_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """A delivery queued before SIGKILL is sent by the next process, same token."""
    shop = await insert_shop(pool, keyring, click_url=receiver.url("/crash"))
    receiver.fail_next("/crash", *ALWAYS)
    event = click(shop)
    first = ServiceProcess("services.callbacks", callbacks_env, tmp_path)
    first.start()
    try:
        await first.wait_healthy()
        await producer.publish(event)
        await receiver.wait_for("/crash", count=2)
    finally:
        first.kill()
    receiver.statuses["/crash"].clear()
    failures = len(receiver.on("/crash"))

    async with running_callbacks(callbacks_env, tmp_path, name="restarted"):
        requests = await receiver.wait_for("/crash", count=failures + 1)
        await wait_for_state(pool, event.event_id, "delivered")

    assert {r.headers[IDEMPOTENCY_HEADER] for r in requests} == {str(event.event_id)}


async def test_replicas_send_each_webhook_once(
    pool: asyncpg.Pool,
    keyring: KeyRing,
    producer: EventProducer,
    callbacks_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """Two processes share the queue without sending any row twice."""
    receiver = SlowReceiver(SLOW_ANSWER_S)
    await receiver.start()
    shops = [
        await insert_shop(pool, keyring, click_url=receiver.url("/replicas"))
        for _ in range(REPLICA_EVENTS)
    ]
    events = [click(shop) for shop in shops]

    try:
        async with (
            running_callbacks(callbacks_env, tmp_path, name="replica-a"),
            running_callbacks(callbacks_env, tmp_path, name="replica-b"),
        ):
            await asyncio.gather(*(producer.publish(event) for event in events))
            await receiver.wait_for("/replicas", count=REPLICA_EVENTS)
            await asyncio.sleep(QUIET_PERIOD_S)
    finally:
        await receiver.stop()

    tokens = [r.headers[IDEMPOTENCY_HEADER] for r in receiver.on("/replicas")]
    assert sorted(tokens) == sorted(str(event.event_id) for event in events)


async def test_sigterm_lets_an_in_flight_post_finish(
    pool: asyncpg.Pool,
    keyring: KeyRing,
    producer: EventProducer,
    callbacks_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """A POST under way at SIGTERM completes and is recorded before exit."""
    receiver = SlowReceiver(DRAIN_ANSWER_S)
    await receiver.start()
    shop = await insert_shop(pool, keyring, click_url=receiver.url("/drain"))
    event = click(shop)
    process = ServiceProcess("services.callbacks", callbacks_env, tmp_path)
    process.start()
    try:
        await process.wait_healthy()
        await producer.publish(event)
        await asyncio.wait_for(receiver.started.wait(), timeout=30)
        code = await asyncio.to_thread(process.stop)
    finally:
        process.kill()
        await receiver.stop()

    assert code == 0, process.log_tail()
    delivered = await wait_for_state(pool, event.event_id, "delivered")
    assert delivered["attempts"] == 1
