"""The API's relay in a child process: it lives and dies with the API."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from tests.support.polling import until
from tests.support.stack import Stack, api_only


def children(pid: int) -> set[int]:
    """The live child processes of ``pid``, read from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def relay_of(stack: Stack) -> tuple[int, int]:
    """The API's pid and its relay child's."""
    api_pid = stack.processes["api"].pid
    await until(lambda: asyncio.sleep(0, bool(children(api_pid))))
    (relay_pid,) = children(api_pid)
    return api_pid, relay_pid


async def test_a_killed_api_leaves_no_relay_behind(
    service_env: dict[str, str],
    admin_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    log_dir = tmp_path_factory.mktemp("relay-orphan-logs")
    async with api_only(service_env, admin_database_url, log_dir) as stack:
        api_pid, relay_pid = await relay_of(stack)
        stack.processes["api"].kill()
        await until(lambda: asyncio.sleep(0, not alive(relay_pid)))
        assert not alive(api_pid)


async def test_the_api_stops_when_its_relay_dies(
    service_env: dict[str, str],
    admin_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A relay that fails takes the API down, for its supervisor to restart."""
    log_dir = tmp_path_factory.mktemp("relay-death-logs")
    async with api_only(service_env, admin_database_url, log_dir) as stack:
        api_pid, relay_pid = await relay_of(stack)
        os.kill(relay_pid, signal.SIGKILL)
        await until(lambda: asyncio.sleep(0, not alive(api_pid)))
        assert stack.processes["api"].stop() not in (0, None)
