"""Running the callbacks service as a process, and waiting on its rows."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from tests.support.processes import ServiceProcess

ROW_TIMEOUT_S = 30.0
POLL_INTERVAL_S = 0.1


@asynccontextmanager
async def running_callbacks(
    env: dict[str, str], log_dir: Path, name: str = "callbacks"
) -> AsyncIterator[ServiceProcess]:
    """A healthy callbacks process, stopped with SIGTERM when the block ends."""
    process = ServiceProcess("services.callbacks", env, log_dir)
    process.log_path = log_dir / f"{name}.log"
    process.start()
    try:
        await process.wait_healthy()
        yield process
    finally:
        code = process.stop()
        assert code in (0, None, -9), process.log_tail()


async def wait_for_state(
    pool: asyncpg.Pool, event_id: uuid.UUID, state: str
) -> asyncpg.Record:
    """The event's delivery row once it reaches ``state``."""
    deadline = time.monotonic() + ROW_TIMEOUT_S
    while True:
        row = await pool.fetchrow(
            "SELECT * FROM webhook_deliveries WHERE event_id = $1", event_id
        )
        if row is not None and row["state"] == state:
            return row
        assert time.monotonic() < deadline, f"delivery never became {state}: {row}"
        await asyncio.sleep(POLL_INTERVAL_S)
