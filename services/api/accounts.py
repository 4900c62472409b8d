"""Accounts and their credentials.

An auth token is 32 random hex digits, as Twilio's are.  Pigeon keeps its
SHA-256 to authenticate requests and, sealed under the master key, the token
itself, because webhooks are signed with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

import asyncpg

from libs.common import sids
from libs.common.crypto import KeyRing
from libs.common.db import translate_db_errors
from libs.common.errors import UnauthorizedError


@dataclass(frozen=True)
class NewAccount:
    account_sid: str
    auth_token: str
    friendly_name: str


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_account(
    pool: asyncpg.Pool, keyring: KeyRing, friendly_name: str
) -> NewAccount:
    """Create an account and return its SID and its one-time-visible token."""
    account_sid = sids.new_sid(sids.ACCOUNT)
    token = secrets.token_hex(16)
    sealed = keyring.seal(token.encode(), context=account_sid)
    with translate_db_errors():
        await pool.execute(
            "INSERT INTO accounts (sid, friendly_name, auth_token_hash,"
            " auth_token_sealed, auth_token_key_id) VALUES ($1, $2, $3, $4, $5)",
            account_sid,
            friendly_name,
            hash_token(token),
            sealed.blob,
            sealed.key_id,
        )
    return NewAccount(account_sid, token, friendly_name)


def parse_basic(header: str | None) -> tuple[str, str]:
    """Split an HTTP Basic ``Authorization`` header into user and password."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        raise UnauthorizedError()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise UnauthorizedError() from None
    user, sep, password = decoded.partition(":")
    if not sep:
        raise UnauthorizedError()
    return user, password


@dataclass(frozen=True)
class Principal:
    """Who a request authenticated as: the account itself, or one of its keys."""

    account_sid: str
    key_sid: str | None = None


async def authenticate(pool: asyncpg.Pool, header: str | None) -> Principal:
    """Return who the credentials prove, or raise ``UnauthorizedError``."""
    user, password = parse_basic(header)
    if sids.is_sid(user, sids.ACCOUNT):
        query = (
            "SELECT sid AS account_sid, auth_token_hash AS secret_hash FROM accounts"
            " WHERE sid = $1 AND status = 'active'"
        )
    elif sids.is_sid(user, sids.API_KEY):
        query = (
            "SELECT k.account_sid, k.secret_hash FROM api_keys k"
            " JOIN accounts a ON a.sid = k.account_sid"
            " WHERE k.sid = $1 AND a.status = 'active'"
        )
    else:
        raise UnauthorizedError()
    with translate_db_errors():
        row = await pool.fetchrow(query, user)
    if row is None or not hmac.compare_digest(row["secret_hash"], hash_token(password)):
        raise UnauthorizedError()
    key_sid = user if user.startswith(sids.API_KEY) else None
    return Principal(row["account_sid"], key_sid)
