"""Group commit of creates, on the session's PostgreSQL."""

from __future__ import annotations

import asyncio
from functools import partial

import asyncpg
import pytest

from libs.common import sids
from libs.common.crypto import KeyRing
from libs.common.errors import InvalidParameterError, RetryableError
from libs.common.settings import CommonSettings
from services.api.ingest import CreateBatcher
from services.api.messages import MessageRequest, new_row, write_row
from tests.redirector import records

CREATES = 60


def request(service_sid: str | None = None) -> MessageRequest:
    return MessageRequest(
        to="+15558675310",
        from_="+17145550100",
        service_sid=service_sid,
        body="Black Friday starts now",
        num_media=0,
        shorten_urls=False,
        send_at=None,
        status_callback=None,
        validity_period=None,
    )


@pytest.fixture
async def account_sid(pool: asyncpg.Pool, settings: CommonSettings) -> str:
    keyring = KeyRing.parse(settings.master_key.get_secret_value())
    return await records.insert_account(pool, keyring)


def batcher_on(pool: asyncpg.Pool) -> CreateBatcher:
    return CreateBatcher(pool, partial(write_row, pool))


async def test_concurrent_creates_share_commits_and_each_keeps_its_event(
    pool: asyncpg.Pool, account_sid: str
) -> None:
    batcher = batcher_on(pool)
    rows = [
        new_row(sids.new_sid(sids.MESSAGE), account_sid, request())
        for _ in range(CREATES)
    ]
    written = await asyncio.gather(*(batcher.insert(*row) for row in rows))
    assert [w["sid"] for w in written] == [row["sid"] for row, _ in rows]
    assert all(w["date_created"] is not None for w in written)
    sid_list = [row["sid"] for row, _ in rows]
    stored = await pool.fetch(
        "SELECT sid, xmin::text AS tx FROM messages WHERE sid = ANY($1)", sid_list
    )
    assert len(stored) == CREATES
    # One transaction per batch: far fewer commits than creates.
    assert len({row["tx"] for row in stored}) < CREATES / 4
    events = await pool.fetch(
        "SELECT key, payload FROM outbox WHERE key = ANY($1)", sid_list
    )
    assert {e["key"] for e in events} == set(sid_list)
    payloads = {row["sid"]: payload for row, payload in rows}
    assert all(payloads[e["key"]] == e["payload"] for e in events)


async def test_one_bad_create_fails_alone(pool: asyncpg.Pool, account_sid: str) -> None:
    """A message whose service is gone gets 21701; its batch is written anyway."""
    batcher = batcher_on(pool)
    missing_service = sids.new_sid(sids.SERVICE)
    good = [
        new_row(sids.new_sid(sids.MESSAGE), account_sid, request()) for _ in range(5)
    ]
    bad = new_row(sids.new_sid(sids.MESSAGE), account_sid, request(missing_service))
    results = await asyncio.gather(
        *(batcher.insert(*row) for row in [*good[:2], bad, *good[2:]]),
        return_exceptions=True,
    )
    error = results[2]
    assert isinstance(error, InvalidParameterError)
    assert error.code == 21701
    assert [r["sid"] for r in results[:2] + results[3:]] == [  # type: ignore[index]
        row["sid"] for row, _ in good
    ]
    count = await pool.fetchval(
        "SELECT count(*) FROM messages WHERE sid = ANY($1)",
        [row["sid"] for row, _ in [*good, bad]],
    )
    assert count == len(good)


async def test_every_waiter_hears_a_database_failure(
    settings: CommonSettings, account_sid: str
) -> None:
    closed = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=1)
    assert closed is not None
    await closed.close()
    batcher = batcher_on(closed)
    results = await asyncio.gather(
        *(
            batcher.insert(*new_row(sids.new_sid(sids.MESSAGE), account_sid, request()))
            for _ in range(3)
        ),
        return_exceptions=True,
    )
    # A closed pool is what a lost database looks like to the driver: the
    # API answers it with 503 (20503), for every create of the batch.
    assert [type(r) for r in results] == [RetryableError] * 3, results
