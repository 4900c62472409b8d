"""The API as its own process, and two shops that must not see each other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.shop import Account, open_account
from tests.support.stack import Stack, api_only

DOMAIN_CHECK_INTERVAL_S = 1.0


@pytest.fixture(scope="session")
async def api_stack(
    service_env: dict[str, str],
    admin_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """Only the API service, on a database of its own.

    Domains are checked again every second, so losing a TXT record shows.
    """
    checks = {
        "PIGEON_DOMAIN_CHECK_INTERVAL_S": str(DOMAIN_CHECK_INTERVAL_S),
        "PIGEON_DOMAIN_CHECK_POLL_S": "0.2",
    }
    log_dir = tmp_path_factory.mktemp("api-logs")
    async with api_only(service_env, admin_database_url, log_dir, checks) as stack:
        yield stack


@pytest.fixture(scope="session")
async def shop(api_stack: Stack) -> Account:
    return await open_account(api_stack, "Owl Shoes", "+17145550101")


@pytest.fixture(scope="session")
async def rival(api_stack: Stack) -> Account:
    return await open_account(api_stack, "Rival Shoes", "+17145550102")
