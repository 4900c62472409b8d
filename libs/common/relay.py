"""The outbox relay as a process of its own: ``python -m libs.common.relay``.

A service that writes events can run its relay inline, on its own event loop,
or beside itself in a child process (``RelayProcess``), so that publishing
never competes with its requests for the loop.  The child stops when told
to, and on its own when its parent is gone, so a killed service leaves no
relay behind.  It can also run on its own, as a deployment of relays.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from functools import partial

import structlog

from .db import create_pool
from .errors import PigeonError
from .kafka import EventProducer
from .outbox import OutboxRelay
from .service import run_service, wait_for_stop
from .settings import CommonSettings

log = structlog.get_logger(__name__)

ORPHAN_CHECK_S = 1.0
# The relay holds a listener and one batch at a time.
CHILD_POOL_SIZE = "2"


class RelayExitedError(PigeonError):
    """The relay process ended while its service was running."""


class RelayProcess:
    """A relay in a child process, started and stopped with its service."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._env = {
            **(env if env is not None else os.environ),
            "PIGEON_DATABASE_POOL_MIN": "1",
            "PIGEON_DATABASE_POOL_MAX": CHILD_POOL_SIZE,
            "PIGEON_RELAY_PARENT_PID": str(os.getpid()),
        }
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "libs.common.relay", env=self._env
        )
        log.info("relay_process_started", pid=self._process.pid)

    async def watch(self) -> None:
        """Return when the child has ended cleanly (a signal to the whole
        process group stops it with its parent); raise if it failed."""
        assert self._process is not None
        code = await self._process.wait()
        if code != 0:
            raise RelayExitedError(f"the outbox relay process exited with {code}")
        log.info("relay_process_stopped", pid=self._process.pid)

    async def stop(self, grace_s: float) -> None:
        """SIGTERM, then SIGKILL if the child outlives ``grace_s``."""
        if self._process is None or self._process.returncode is not None:
            return
        self._process.terminate()
        try:
            await asyncio.wait_for(self._process.wait(), grace_s)
        except TimeoutError:
            log.warning("relay_process_killed", pid=self._process.pid)
            self._process.kill()
            await self._process.wait()
        except asyncio.CancelledError:
            # The service's own grace ran out: never leave the child behind.
            self._process.kill()
            raise


async def serve(settings: CommonSettings, stop: asyncio.Event) -> None:
    """Relay until ``stop`` is set or the parent process is gone."""
    pool = await create_pool(settings)
    producer = EventProducer(settings)
    await producer.start()
    tasks = [asyncio.create_task(OutboxRelay(pool, producer).run(), name="relay")]
    parent = os.environ.get("PIGEON_RELAY_PARENT_PID")
    if parent is not None:
        tasks.append(asyncio.create_task(_stop_when_orphaned(int(parent), stop)))
    try:
        await wait_for_stop(stop, tasks)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await producer.stop()
        await pool.close()


async def _stop_when_orphaned(parent_pid: int, stop: asyncio.Event) -> None:
    # Nothing signals a parent's death portably, so the child looks.
    while os.getppid() == parent_pid:  # noqa: ASYNC110
        await asyncio.sleep(ORPHAN_CHECK_S)
    log.warning("relay_orphaned", parent_pid=parent_pid)
    stop.set()


def main() -> None:
    settings = CommonSettings()
    run_service("relay", settings, partial(serve, settings))


if __name__ == "__main__":
    main()
