"""The dispatcher and a messaging service's settings, on the session's database.

A carrier that records what it is handed stands in for the network; the rows
and their state machine are real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from libs.common import sids
from libs.common.crypto import KeyRing
from libs.common.db import create_pool
from libs.common.events import MessageDue
from libs.common.settings import CommonSettings
from services.scheduler.carriers import CarrierResult, OutgoingMessage
from services.scheduler.dispatcher import Dispatcher
from tests.redirector import records

RECIPIENT = "+15558675310"
POOL_NUMBERS = ("+17145550701", "+17145550702", "+17145550703")


@dataclass
class RecordingCarrier:
    handed: list[OutgoingMessage] = field(default_factory=list)

    async def send(self, message: OutgoingMessage) -> CarrierResult:
        self.handed.append(message)
        return CarrierResult()

    async def close(self) -> None:
        return None


@pytest.fixture
async def service_pool(settings: CommonSettings) -> AsyncIterator[asyncpg.Pool]:
    """A pool set up as the services set theirs up (JSON columns decoded)."""
    pool = await create_pool(settings)
    yield pool
    await pool.close()


@pytest.fixture
async def account_sid(service_pool: asyncpg.Pool, settings: CommonSettings) -> str:
    keyring = KeyRing.parse(settings.master_key.get_secret_value())
    return await records.insert_account(service_pool, keyring)


async def service_with_numbers(
    pool: asyncpg.Pool, account_sid: str, attributes: dict[str, Any]
) -> str:
    service_sid = sids.new_sid(sids.SERVICE)
    await pool.execute(
        "INSERT INTO messaging_services (sid, account_sid, friendly_name, attributes)"
        " VALUES ($1, $2, 'Drops', $3)",
        service_sid,
        account_sid,
        attributes,
    )
    for number in POOL_NUMBERS:
        number_sid = sids.new_sid(sids.PHONE_NUMBER)
        await pool.execute(
            "INSERT INTO phone_numbers (sid, account_sid, phone_number, friendly_name)"
            " VALUES ($1, $2, $3 || $4, $3)",
            number_sid,
            account_sid,
            number,
            service_sid[-6:],
        )
        await pool.execute(
            "INSERT INTO service_phone_numbers (service_sid, phone_number_sid)"
            " VALUES ($1, $2)",
            service_sid,
            number_sid,
        )
    return service_sid


async def due_messages(
    pool: asyncpg.Pool,
    account_sid: str,
    service_sid: str,
    count: int,
    *,
    waited: timedelta = timedelta(0),
    validity_period: int | None = None,
) -> list[MessageDue]:
    """Messages through the service, created ``waited`` ago, claimed as due."""
    events = []
    for _ in range(count):
        sid = sids.new_sid(sids.MESSAGE)
        await pool.execute(
            "INSERT INTO messages (sid, account_sid, messaging_service_sid,"
            " to_address, body, status, dispatch_state, validity_period,"
            " date_created) VALUES ($1, $2, $3, $4, 'hi', 'queued', 'due', $5,"
            " now() - $6::interval)",
            sid,
            account_sid,
            service_sid,
            RECIPIENT,
            validity_period,
            waited,
        )
        events.append(MessageDue(message_sid=sid, account_sid=account_sid))
    return events


async def outcome(pool: asyncpg.Pool, sid: str) -> tuple[str, int | None]:
    row = await pool.fetchrow(
        "SELECT status, error_code FROM messages WHERE sid = $1", sid
    )
    assert row is not None
    return row["status"], row["error_code"]


def dispatcher(pool: asyncpg.Pool, carrier: RecordingCarrier) -> Dispatcher:
    return Dispatcher(pool, carrier, link_ttl_days=90, carrier_concurrency=8)


async def test_a_message_past_its_services_validity_fails_unsent(
    service_pool: asyncpg.Pool, account_sid: str
) -> None:
    """30036, and the carrier never sees it; a fresh message goes."""
    service_sid = await service_with_numbers(
        service_pool, account_sid, {"validity_period": 60}
    )
    (stale,) = await due_messages(
        service_pool, account_sid, service_sid, 1, waited=timedelta(minutes=2)
    )
    (fresh,) = await due_messages(service_pool, account_sid, service_sid, 1)
    carrier = RecordingCarrier()

    await dispatcher(service_pool, carrier).handle_batch([stale, fresh])

    assert await outcome(service_pool, stale.message_sid) == ("failed", 30036)
    assert await outcome(service_pool, fresh.message_sid) == ("sent", None)
    assert [m.sid for m in carrier.handed] == [fresh.message_sid]


async def test_the_messages_own_validity_wins_over_the_services(
    service_pool: asyncpg.Pool, account_sid: str
) -> None:
    service_sid = await service_with_numbers(
        service_pool, account_sid, {"validity_period": 60}
    )
    (patient,) = await due_messages(
        service_pool,
        account_sid,
        service_sid,
        1,
        waited=timedelta(minutes=2),
        validity_period=600,
    )
    carrier = RecordingCarrier()

    await dispatcher(service_pool, carrier).handle_batch([patient])

    assert await outcome(service_pool, patient.message_sid) == ("sent", None)


async def test_a_sticky_service_keeps_one_number_per_recipient(
    service_pool: asyncpg.Pool, account_sid: str
) -> None:
    service_sid = await service_with_numbers(service_pool, account_sid, {})
    events = await due_messages(service_pool, account_sid, service_sid, 12)
    carrier = RecordingCarrier()

    await dispatcher(service_pool, carrier).handle_batch(events)

    assert len({m.from_ for m in carrier.handed}) == 1
    assert len(carrier.handed) == 12


async def test_a_service_without_sticky_sender_spreads_over_its_pool(
    service_pool: asyncpg.Pool, account_sid: str
) -> None:
    """With 3 numbers and 30 messages, one number for all has odds of 1 in 10^13."""
    service_sid = await service_with_numbers(
        service_pool, account_sid, {"sticky_sender": False}
    )
    events = await due_messages(service_pool, account_sid, service_sid, 30)
    carrier = RecordingCarrier()

    await dispatcher(service_pool, carrier).handle_batch(events)

    senders = {m.from_ or "" for m in carrier.handed}
    assert len(senders) > 1
    assert all(sender.startswith(POOL_NUMBERS) for sender in senders)
