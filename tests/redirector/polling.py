"""Waiting, within a bound, for something to become true."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_INTERVAL_S = 0.1


async def eventually(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = DEFAULT_INTERVAL_S,
) -> None:
    """Return once ``check`` holds; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(interval_s)
