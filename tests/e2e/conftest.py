"""A whole Pigeon stack for end-to-end tests, with a local carrier and webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.receiver import Receiver
from tests.support.stack import Stack


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    """Stands in for the carrier and for the shop's webhook endpoints."""
    endpoint = Receiver()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


@pytest.fixture(scope="session")
async def stack(
    service_env: dict[str, str],
    admin_database_url: str,
    receiver: Receiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """The four services as separate processes on real Kafka and PostgreSQL."""
    log_dir: Path = tmp_path_factory.mktemp("stack-logs")
    running = Stack(dict(service_env), log_dir)
    await running.prepare(admin_database_url)
    await running.start(
        {
            "api": {"PIGEON_SCHEDULE_MIN_LEAD_S": "1"},
            "scheduler": {
                "PIGEON_CARRIER": "webhook",
                "PIGEON_CARRIER_URL": receiver.url("/carrier"),
            },
            "callbacks": {"PIGEON_WEBHOOK_ALLOWED_CIDRS": '["127.0.0.0/8"]'},
        }
    )
    yield running
    codes = await running.remove(admin_database_url)
    assert all(code == 0 for code in codes.values()), codes
