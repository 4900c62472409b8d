"""Which domains the periodic DNS check picks, on the session's database."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from libs.common import sids
from libs.common.crypto import KeyRing
from libs.common.settings import CommonSettings
from services.api.dns_checks import Resolver, Routing
from services.api.verification import STALE_CLAIM_AGE_S, DomainWatcher
from tests.redirector import records
from tests.support.dns import DnsServer

INTERVAL = timedelta(hours=1)


@pytest.fixture
async def account_sid(pool: asyncpg.Pool, settings: CommonSettings) -> str:
    keyring = KeyRing.parse(settings.master_key.get_secret_value())
    return await records.insert_account(pool, keyring)


async def claim(
    pool: asyncpg.Pool,
    account_sid: str,
    *,
    age: timedelta,
    checked: timedelta | None,
    verified: bool = False,
) -> str:
    """A domain created ``age`` ago and last checked ``checked`` ago."""
    sid = sids.new_sid(sids.DOMAIN)
    await pool.execute(
        "INSERT INTO domains (sid, account_sid, domain_name, verification_token,"
        " date_created, checked_at, verified_at) VALUES ($1, $2, $3, 't',"
        " now() - $4::interval, now() - $5::interval,"
        " CASE WHEN $6 THEN now() END)",
        sid,
        account_sid,
        f"ls{sid[-8:]}.watch.test",
        age,
        checked,
        verified,
    )
    return sid


async def test_due_domains_are_checked_and_stale_claims_less_often(
    pool: asyncpg.Pool, account_sid: str, dns_server: DnsServer
) -> None:
    await pool.execute("UPDATE domains SET checked_at = now()")
    stale = STALE_CLAIM_AGE_S + 3600
    never_checked = await claim(pool, account_sid, age=timedelta(0), checked=None)
    fresh_due = await claim(
        pool, account_sid, age=timedelta(days=1), checked=2 * INTERVAL
    )
    verified_due = await claim(
        pool,
        account_sid,
        age=timedelta(seconds=stale),
        checked=2 * INTERVAL,
        verified=True,
    )
    stale_waiting = await claim(
        pool, account_sid, age=timedelta(seconds=stale), checked=2 * INTERVAL
    )
    stale_due = await claim(
        pool, account_sid, age=timedelta(seconds=stale), checked=25 * INTERVAL
    )
    recent = await claim(pool, account_sid, age=timedelta(days=1), checked=INTERVAL / 2)
    watcher = DomainWatcher(
        pool,
        Resolver([dns_server.address], timeout_s=0.5, tries=1),
        Routing(),
        interval_s=INTERVAL.total_seconds(),
        poll_s=1.0,
        batch=50,
    )

    assert await watcher.check_due() == 4

    checked = {
        row["sid"]
        for row in await pool.fetch(
            "SELECT sid FROM domains WHERE checked_at > now() - interval '1 minute'"
        )
    }
    assert {never_checked, fresh_due, verified_due, stale_due} <= checked
    assert not {stale_waiting, recent} & checked
