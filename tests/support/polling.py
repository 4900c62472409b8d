"""Waiting for something another process will do soon."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 20.0
POLL_INTERVAL_S = 0.1


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> T:
    """Call ``probe`` until ``accept`` likes its result; return that result."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if accept(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(POLL_INTERVAL_S)


async def until(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    interval_s: float = POLL_INTERVAL_S,
) -> None:
    """Return once ``check`` holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(interval_s)
