"""Message creation throughput and latency of the API, against a bare baseline.

Both servers run as their own processes on the same PostgreSQL and get the same
load: closed-loop clients as fast as they can for the throughput figure, then
an open-loop load at half the baseline's rate for latency at that rate.
Pigeon's create validates, checks the account's service and senders, and
writes the message with its outbox event in one transaction; the baseline
parses the form and does one INSERT.  The last line printed is JSON.

The load generator is Python too: its cyclic garbage collector is off while
it measures, or a collection over thousands of pending requests would stall
the client and show as server latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import orjson

from libs.common.crypto import generate_master_key
from libs.common.settings import CommonSettings
from tests.support.processes import REPO_ROOT, free_port
from tests.support.shop import basic_auth, open_account
from tests.support.stack import Stack, create_database, drop_database

Target = tuple[str, dict[str, str], dict[str, str]]  # url, headers, form
STARTUP_S = 30.0


def summarise(latencies: list[float], elapsed: float, errors: int) -> dict[str, float]:
    cut = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "requests": len(latencies),
        "errors": errors,
        "per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cut[49] * 1000, 2),
        "p99_ms": round(cut[98] * 1000, 2),
    }


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection in the load generator while it measures."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def closed_loop(target: Target, clients: int, seconds: float) -> dict[str, float]:
    """``clients`` workers, each sending its next request when the last returns."""
    url, headers, form = target
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                async with session.post(url, data=form) as reply:
                    await reply.read()
                    if reply.status != 201:
                        errors += 1
                        continue
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return summarise(latencies, elapsed, errors)


async def open_loop(target: Target, rate: float, seconds: float) -> dict[str, float]:
    """Requests started at a fixed rate; latency counts from the planned start."""
    url, headers, form = target
    latencies: list[float] = []
    errors = 0
    async with aiohttp.ClientSession(headers=headers) as session:

        async def one(planned: float) -> None:
            nonlocal errors
            async with session.post(url, data=form) as reply:
                await reply.read()
                if reply.status != 201:
                    errors += 1
                    return
            latencies.append(time.perf_counter() - planned)

        tasks = []
        begin = time.perf_counter()
        for i in range(int(rate * seconds)):
            planned = begin + i / rate
            await asyncio.sleep(max(planned - time.perf_counter(), 0))
            tasks.append(asyncio.create_task(one(planned)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - begin
    return summarise(latencies, elapsed, errors)


async def wait_listening(url: str) -> None:
    deadline = time.monotonic() + STARTUP_S
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(url) as reply:
                    await reply.read()
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)
    raise TimeoutError(url)


async def baseline_target(database_url: str) -> tuple[Target, Callable[[], None]]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.api_ingest.baseline_server",
        str(port),
        database_url,
        cwd=REPO_ROOT,
    )
    await wait_listening(f"http://127.0.0.1:{port}/")
    form = {"To": "+15558675310", "Body": "Black Friday starts now"}
    return (f"http://127.0.0.1:{port}/messages", {}, form), process.terminate


async def pigeon_target(stack: Stack) -> Target:
    account = await open_account(stack, "Ingest", "+17145550171")
    headers = basic_auth(account.sid, account.token)
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(
            f"{stack.api_url}/v1/Services", data={"FriendlyName": "ingest"}
        ) as reply:
            service_sid = (await reply.json())["sid"]
        async with session.post(
            f"{stack.api_url}/v1/Services/{service_sid}/PhoneNumbers",
            data={"PhoneNumberSid": account.number_sid},
        ) as reply:
            assert reply.status == 201
    url = f"{stack.api_url}/2010-04-01/Accounts/{account.sid}/Messages.json"
    form = {
        "To": "+15558675310",
        "MessagingServiceSid": service_sid,
        "Body": "Black Friday starts now",
    }
    return url, headers, form


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    settings = CommonSettings()
    scratch = f"pigeon_bench_{os.getpid()}"
    scratch_url = await create_database(settings.database_url, scratch)
    baseline, stop_baseline = await baseline_target(scratch_url)
    try:
        with collector_paused():
            base = await closed_loop(baseline, args.clients, args.seconds)
    finally:
        stop_baseline()
        await drop_database(settings.database_url, scratch)

    env = dict(os.environ)
    env.update(
        PIGEON_MASTER_KEY=generate_master_key("bench"),
        PIGEON_LOG_LEVEL="WARNING",
        PIGEON_DATABASE_URL=settings.database_url,
        PIGEON_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        PIGEON_RATE_LIMIT_PER_S="1000000",
        PIGEON_RATE_LIMIT_BURST="1000000",
    )
    stack = Stack(env, Path(tempfile.mkdtemp(prefix="pigeon-bench-")))
    await stack.prepare(settings.database_url)
    try:
        await stack.start(services=("api",))
        target = await pigeon_target(stack)
        with collector_paused():
            pigeon = await closed_loop(target, args.clients, args.seconds)
        half_rate = base["per_s"] / 2
        with collector_paused():
            at_half = await open_loop(target, half_rate, args.seconds)
    finally:
        await stack.remove(settings.database_url)

    print(f"baseline (bare aiohttp + one INSERT): {base}", file=sys.stderr)
    print(f"pigeon, closed loop: {pigeon}", file=sys.stderr)
    print(f"pigeon at half the baseline's rate: {at_half}", file=sys.stderr)
    ratio = pigeon["per_s"] / base["per_s"]
    print(
        orjson.dumps(
            {
                "bench": "api_ingest",
                "clients": args.clients,
                "baseline": base,
                "pigeon": pigeon,
                "pigeon_at_half_baseline_rate": {"rate_per_s": half_rate, **at_half},
                "ratio_per_s": round(ratio, 2),
                "target": "ratio_per_s >= 0.5; p99 < 50 ms at half the baseline rate",
                "target_met": ratio >= 0.5 and at_half["p99_ms"] < 50,
            }
        ).decode()
    )


if __name__ == "__main__":
    asyncio.run(main())
