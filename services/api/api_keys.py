"""API keys: an ``SK`` SID with a secret that authenticates like the auth token.

The secret is 32 random characters, shown once when the key is created and
kept only as its SHA-256.
"""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg

from libs.common import sids
from libs.common.db import translate_db_errors
from libs.common.errors import InvalidParameterError, NotFoundError

from .accounts import hash_token
from .paging import Cursor, PageRequest, after, offset
from .render import rfc2822

MAX_FRIENDLY_NAME = 64


def _name(value: str | None) -> str:
    if value is not None and len(value) > MAX_FRIENDLY_NAME:
        raise InvalidParameterError(20001, "FriendlyName is longer than 64 characters.")
    return value or ""


async def create_key(
    pool: asyncpg.Pool, account_sid: str, friendly_name: str | None
) -> dict[str, Any]:
    """Create a key; the returned resource is the only one carrying ``secret``."""
    secret = secrets.token_urlsafe(24)[:32]
    with translate_db_errors():
        row = await pool.fetchrow(
            "INSERT INTO api_keys (sid, account_sid, friendly_name, secret_hash)"
            " VALUES ($1, $2, $3, $4) RETURNING *",
            sids.new_sid(sids.API_KEY),
            account_sid,
            _name(friendly_name),
            hash_token(secret),
        )
    assert row is not None
    return {**render_key(row), "secret": secret}


async def fetch_key(pool: asyncpg.Pool, account_sid: str, sid: str) -> asyncpg.Record:
    with translate_db_errors():
        row = await pool.fetchrow(
            "SELECT * FROM api_keys WHERE sid = $1 AND account_sid = $2",
            sid,
            account_sid,
        )
    if row is None:
        raise NotFoundError(f"/2010-04-01/Accounts/{account_sid}/Keys/{sid}.json")
    return row


async def rename_key(
    pool: asyncpg.Pool, account_sid: str, sid: str, friendly_name: str | None
) -> asyncpg.Record:
    """Rename the key; without a ``friendly_name`` it is left as it was."""
    current = await fetch_key(pool, account_sid, sid)
    if friendly_name is None:
        return current
    with translate_db_errors():
        row = await pool.fetchrow(
            "UPDATE api_keys SET friendly_name = $3, date_updated = now()"
            " WHERE sid = $1 AND account_sid = $2 RETURNING *",
            sid,
            account_sid,
            _name(friendly_name),
        )
    assert row is not None
    return row


async def delete_key(pool: asyncpg.Pool, account_sid: str, sid: str) -> None:
    with translate_db_errors():
        deleted = await pool.fetchval(
            "DELETE FROM api_keys WHERE sid = $1 AND account_sid = $2 RETURNING sid",
            sid,
            account_sid,
        )
    if deleted is None:
        raise NotFoundError(f"/2010-04-01/Accounts/{account_sid}/Keys/{sid}.json")


async def list_keys(
    pool: asyncpg.Pool, account_sid: str, page: PageRequest
) -> list[asyncpg.Record]:
    """The page's keys, oldest first, and the next page's first one if any."""
    with translate_db_errors():
        return await pool.fetch(
            "SELECT * FROM api_keys WHERE account_sid = $1"
            " AND ($2::timestamptz IS NULL OR (date_created, sid) > ($2, $3::text))"
            " ORDER BY date_created, sid LIMIT $4 OFFSET $5",
            account_sid,
            *after(page),
            page.size + 1,
            offset(page),
        )


def key_position(row: asyncpg.Record) -> Cursor:
    """Where the key stands in the account's list, for page tokens."""
    return Cursor(row["date_created"], row["sid"])


def render_key(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "sid": row["sid"],
        "friendly_name": row["friendly_name"],
        "date_created": rfc2822(row["date_created"]),
        "date_updated": rfc2822(row["date_updated"]),
    }
