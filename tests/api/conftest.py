"""The API as its own process, and two shops that must not see each other."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.shop import Account, open_account
from tests.support.stack import Stack

DOMAIN_CHECK_INTERVAL_S = 1.0


@pytest.fixture(scope="session")
async def api_stack(
    service_env: dict[str, str],
    admin_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """Only the API service, on a database of its own."""
    log_dir: Path = tmp_path_factory.mktemp("api-logs")
    running = Stack(dict(service_env), log_dir)
    await running.prepare(admin_database_url)
    # Domains are checked again every second, so losing a TXT record shows.
    await running.start(
        {
            "api": {
                "PIGEON_DOMAIN_CHECK_INTERVAL_S": str(DOMAIN_CHECK_INTERVAL_S),
                "PIGEON_DOMAIN_CHECK_POLL_S": "0.2",
            }
        },
        services=("api",),
    )
    yield running
    await running.remove(admin_database_url)


@pytest.fixture(scope="session")
async def shop(api_stack: Stack) -> Account:
    return await open_account(api_stack, "Owl Shoes", "+17145550101")


@pytest.fixture(scope="session")
async def rival(api_stack: Stack) -> Account:
    return await open_account(api_stack, "Rival Shoes", "+17145550102")
