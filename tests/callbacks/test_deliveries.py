"""The durable queue on PostgreSQL: one row per event, one worker per claim."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from libs.common.crypto import KeyRing
from services.callbacks import deliveries
from services.callbacks.deliveries import NewDelivery
from services.callbacks.tokens import AuthTokens, UnknownAccountError

from .records import UNREACHABLE_URL, insert_account

pytestmark = pytest.mark.usefixtures("clean_deliveries")

# Far from the present, so these rows are never due for a service process.
LEASE_S = 30.0


async def queue(pool: asyncpg.Pool, account_sid: str, count: int) -> list[uuid.UUID]:
    """Queue ``count`` deliveries for the account; return their event ids."""
    ids = [uuid.uuid4() for _ in range(count)]
    async with pool.acquire() as conn:
        for event_id in ids:
            await deliveries.enqueue(
                conn,
                NewDelivery(event_id, account_sid, "status", UNREACHABLE_URL, "x", b""),
            )
    return ids


async def row(pool: asyncpg.Pool, event_id: uuid.UUID) -> asyncpg.Record:
    found = await pool.fetchrow(
        "SELECT * FROM webhook_deliveries WHERE event_id = $1", event_id
    )
    assert found is not None
    return found


async def test_enqueue_is_a_no_op_for_a_known_event(
    pool: asyncpg.Pool, keyring: KeyRing
) -> None:
    """A redelivered event inserts nothing and says so."""
    account_sid, _ = await insert_account(pool, keyring)
    delivery = NewDelivery(
        uuid.uuid4(), account_sid, "click", UNREACHABLE_URL, "x", b"a"
    )

    async with pool.acquire() as conn:
        first = await deliveries.enqueue(conn, delivery)
        second = await deliveries.enqueue(conn, delivery)

    count = await pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE event_id = $1",
        delivery.event_id,
    )
    assert (first, second, count) == (True, False, 1)


async def test_claim_takes_a_lease_and_counts_the_attempt(
    pool: asyncpg.Pool, keyring: KeyRing
) -> None:
    """A claimed row is hidden until its lease ends, with attempts incremented."""
    account_sid, _ = await insert_account(pool, keyring)
    [event_id] = await queue(pool, account_sid, 1)

    claimed = await deliveries.claim_due(pool, 10, LEASE_S)
    again = await deliveries.claim_due(pool, 10, LEASE_S)

    assert [d.event_id for d in claimed] == [event_id]
    assert claimed[0].attempts == 1
    assert again == []
    stored = await row(pool, event_id)
    assert stored["attempts"] == 1
    assert stored["state"] == "pending"


async def test_concurrent_claims_never_share_a_row(
    pool: asyncpg.Pool, keyring: KeyRing
) -> None:
    """Workers claiming at once split the due rows between them, none twice."""
    account_sid, _ = await insert_account(pool, keyring)
    ids = set(await queue(pool, account_sid, 40))

    batches = await asyncio.gather(
        *(deliveries.claim_due(pool, 7, LEASE_S) for _ in range(8))
    )

    claimed = [d.event_id for batch in batches for d in batch]
    assert len(claimed) == len(set(claimed))
    assert ids <= set(claimed)


async def test_settling_a_stale_claim_changes_nothing(
    pool: asyncpg.Pool, keyring: KeyRing
) -> None:
    """A worker whose lease ran out cannot overwrite the newer claim's outcome."""
    account_sid, _ = await insert_account(pool, keyring)
    [event_id] = await queue(pool, account_sid, 1)
    [stale] = await deliveries.claim_due(pool, 1, LEASE_S)
    await pool.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = now() WHERE event_id = $1",
        event_id,
    )
    [fresh] = await deliveries.claim_due(pool, 1, LEASE_S)

    await deliveries.mark_failed(pool, stale, "late answer")

    assert (await row(pool, event_id))["state"] == "pending"
    await deliveries.mark_delivered(pool, fresh)
    stored = await row(pool, event_id)
    assert stored["state"] == "delivered"
    assert stored["delivered_at"] is not None


async def test_reschedule_keeps_the_error_and_delays_the_row(
    pool: asyncpg.Pool, keyring: KeyRing
) -> None:
    """A retry is due after its delay, with the reason kept for operators."""
    account_sid, _ = await insert_account(pool, keyring)
    [event_id] = await queue(pool, account_sid, 1)
    [claimed] = await deliveries.claim_due(pool, 1, LEASE_S)

    await deliveries.reschedule(pool, claimed, 0.0, "HTTP 503")
    retried = await deliveries.claim_due(pool, 1, LEASE_S)

    assert [d.attempts for d in retried] == [2]
    assert (await row(pool, event_id))["last_error"] == "HTTP 503"


async def test_auth_tokens_unseal_and_cache(
    pool: asyncpg.Pool, keyring: KeyRing
) -> None:
    """The sealed token is opened for its account and then served from memory."""
    account_sid, token = await insert_account(pool, keyring)
    now = [0.0]
    tokens = AuthTokens(pool, keyring, ttl_s=60.0, clock=lambda: now[0])

    first = await tokens.get(account_sid)
    await pool.execute(
        "UPDATE accounts SET auth_token_sealed = $2 WHERE sid = $1",
        account_sid,
        keyring.seal(b"rotated", context=account_sid).blob,
    )
    cached = await tokens.get(account_sid)
    now[0] = 61.0
    refreshed = await tokens.get(account_sid)

    assert (first, cached, refreshed) == (token, token, "rotated")


async def test_auth_tokens_refuse_an_unknown_account(
    pool: asyncpg.Pool, keyring: KeyRing
) -> None:
    """An account that does not exist is a permanent error, not a crash."""
    tokens = AuthTokens(pool, keyring, ttl_s=60.0)

    with pytest.raises(UnknownAccountError):
        await tokens.get("AC" + "f" * 32)
