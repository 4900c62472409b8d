"""How late a burst of scheduled messages reaches the carrier after ``SendAt``.

Pigeon: N messages are created through the API, all due at the same instant,
and the lag of each carrier request behind ``SendAt`` is measured.  Baseline,
in the same run and on the same Kafka and PostgreSQL: a bare pipeline with the
least work the architecture allows, one process that at ``SendAt`` updates
each row with asyncpg, produces a record to Kafka, consumes it and POSTs to the
same receiver.  The last line printed is JSON with both and their ratio.

Run with ``make bench`` (the local infrastructure must be up).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from libs.common.crypto import generate_master_key
from libs.common.settings import CommonSettings
from tests.support.receiver import Receiver
from tests.support.shop import basic_auth, open_account
from tests.support.stack import Stack

LEAD_S = 10.0
CREATE_CONCURRENCY = 32


def percentiles(lags: list[float]) -> dict[str, float]:
    ordered = sorted(lags)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "p50_ms": round(cut[49] * 1000, 1),
        "p99_ms": round(cut[98] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "early": sum(1 for lag in ordered if lag < 0),
    }


async def create_messages(stack: Stack, count: int, send_at: datetime) -> None:
    account = await open_account(stack, "Bench Shoes", "+17145550142")
    headers = basic_auth(account.sid, account.token)
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(
            f"{stack.api_url}/v1/Services", data={"FriendlyName": "bench"}
        ) as reply:
            service_sid = (await reply.json())["sid"]
        async with session.post(
            f"{stack.api_url}/v1/Services/{service_sid}/PhoneNumbers",
            data={"PhoneNumberSid": account.number_sid},
        ) as reply:
            assert reply.status == 201
        gate = asyncio.Semaphore(CREATE_CONCURRENCY)
        url = f"{stack.api_url}/2010-04-01/Accounts/{account.sid}/Messages.json"
        form = {
            "To": "+15558675310",
            "MessagingServiceSid": service_sid,
            "Body": "Black Friday starts now",
            "ScheduleType": "fixed",
            "SendAt": send_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

        async def create() -> None:
            async with gate, session.post(url, data=form) as reply:
                assert reply.status == 201, await reply.text()

        await asyncio.gather(*(create() for _ in range(count)))


async def measure_pigeon(
    env: dict[str, str], admin_url: str, count: int
) -> list[float]:
    receiver = Receiver()
    await receiver.start()
    stack = Stack(env, Path(tempfile.mkdtemp(prefix="pigeon-bench-")))
    await stack.prepare(admin_url)
    try:
        await stack.start(
            {
                "api": {"PIGEON_SCHEDULE_MIN_LEAD_S": "1"},
                "scheduler": {
                    "PIGEON_CARRIER": "webhook",
                    "PIGEON_CARRIER_URL": receiver.url("/carrier"),
                },
            },
            services=("api", "scheduler"),
        )
        send_at = (datetime.now(UTC) + timedelta(seconds=LEAD_S)).replace(microsecond=0)
        await create_messages(stack, count, send_at)
        arrived = await receiver.wait_for("/carrier", count, timeout_s=LEAD_S + 120)
        return [r.at - send_at.timestamp() for r in arrived]
    finally:
        await stack.remove(admin_url)
        await receiver.stop()


async def measure_baseline(settings: CommonSettings, count: int) -> list[float]:
    """The floor: one UPDATE, one Kafka round trip and one POST per message."""
    receiver = Receiver()
    await receiver.start()
    topic = f"bench-baseline-{os.getpid()}-{time.time_ns()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
    conn = await asyncpg.connect(settings.database_url)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
    )
    await conn.execute(
        "CREATE TEMP TABLE bench (id int PRIMARY KEY, state text NOT NULL)"
    )
    await conn.executemany(
        "INSERT INTO bench VALUES ($1, 'pending')", [(i,) for i in range(count)]
    )
    await producer.start()
    await consumer.start()
    try:
        send_at = time.time() + 2.0
        await asyncio.sleep(send_at - time.time())
        async with aiohttp.ClientSession() as session:
            forward = asyncio.create_task(_forward(consumer, session, receiver, count))
            for i in range(count):
                await conn.execute("UPDATE bench SET state = 'due' WHERE id = $1", i)
                await producer.send(topic, orjson.dumps({"id": i}))
            await producer.flush()
            await forward
        return [r.at - send_at for r in receiver.on("/carrier")]
    finally:
        await consumer.stop()
        await producer.stop()
        await conn.close()
        await receiver.stop()
        await admin.delete_topics([topic])
        await admin.close()


async def _forward(
    consumer: AIOKafkaConsumer,
    session: aiohttp.ClientSession,
    receiver: Receiver,
    count: int,
) -> None:
    seen = 0
    while seen < count:
        batches = await consumer.getmany(timeout_ms=1000)
        for records in batches.values():
            for record in records:
                async with session.post(receiver.url("/carrier"), data=record.value):
                    seen += 1


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=500)
    args = parser.parse_args()
    settings = CommonSettings()
    env = dict(os.environ)
    env.update(
        PIGEON_MASTER_KEY=generate_master_key("bench"),
        PIGEON_LOG_LEVEL=os.environ.get("PIGEON_LOG_LEVEL", "WARNING"),
        PIGEON_DATABASE_URL=settings.database_url,
        PIGEON_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
    )
    baseline = percentiles(await measure_baseline(settings, args.messages))
    pigeon = percentiles(
        await measure_pigeon(env, settings.database_url, args.messages)
    )
    print(f"baseline (bare asyncpg + Kafka + POST): {baseline}", file=sys.stderr)
    print(
        f"pigeon (api -> scheduler -> dispatcher -> carrier): {pigeon}", file=sys.stderr
    )
    print(
        orjson.dumps(
            {
                "bench": "scheduler_latency",
                "messages": args.messages,
                "pigeon": pigeon,
                "baseline": baseline,
                "ratio_p50": round(pigeon["p50_ms"] / max(baseline["p50_ms"], 0.1), 2),
                "ratio_p99": round(pigeon["p99_ms"] / max(baseline["p99_ms"], 0.1), 2),
                "target": "every message within 1000 ms after SendAt, none early",
                "target_met": pigeon["max_ms"] <= 1000 and pigeon["early"] == 0,
            }
        ).decode()
    )


if __name__ == "__main__":
    asyncio.run(main())
