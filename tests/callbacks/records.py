"""Rows the callbacks service reads, written straight into the test database."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from libs.common import sids
from libs.common.crypto import KeyRing
from libs.common.events import LinkClicked, MessageStatusChanged

TO = "+15558675310"
FROM = "+17145550100"
LINK = "https://owlshoes.test/black-friday?utm_source=sms"
# TEST-NET-1 (RFC 5737): rows queued straight into the table point here.
UNREACHABLE_URL = "https://192.0.2.1/hook"


@dataclass(frozen=True)
class Shop:
    """One account with a branded domain, a messaging service and a message."""

    account_sid: str
    auth_token: str
    domain_sid: str
    service_sid: str
    message_sid: str


async def insert_account(pool: asyncpg.Pool, keyring: KeyRing) -> tuple[str, str]:
    """An account with a sealed auth token; returns ``(sid, token)``."""
    sid = sids.new_sid(sids.ACCOUNT)
    token = secrets.token_hex(16)
    sealed = keyring.seal(token.encode(), context=sid)
    await pool.execute(
        "INSERT INTO accounts (sid, friendly_name, auth_token_hash,"
        " auth_token_sealed, auth_token_key_id) VALUES ($1, $2, $3, $4, $5)",
        sid,
        "Owl Shoes",
        hashlib.sha256(token.encode()).digest(),
        sealed.blob,
        sealed.key_id,
    )
    return sid, token


async def insert_domain(
    pool: asyncpg.Pool, account_sid: str, callback_url: str | None
) -> str:
    sid = sids.new_sid(sids.DOMAIN)
    await pool.execute(
        "INSERT INTO domains (sid, account_sid, domain_name, verification_token,"
        " verified_at) VALUES ($1, $2, $3, 'token', now())",
        sid,
        account_sid,
        f"ls-{secrets.token_hex(6)}.owlshoes.test",
    )
    await pool.execute(
        "INSERT INTO domain_configs (sid, domain_sid, callback_url)"
        " VALUES ($1, $2, $3)",
        sids.new_sid(sids.DOMAIN_CONFIG),
        sid,
        callback_url,
    )
    return sid


async def insert_service(
    pool: asyncpg.Pool, account_sid: str, status_callback: str | None
) -> str:
    sid = sids.new_sid(sids.SERVICE)
    await pool.execute(
        "INSERT INTO messaging_services (sid, account_sid, friendly_name,"
        " status_callback) VALUES ($1, $2, 'Black Friday', $3)",
        sid,
        account_sid,
        status_callback,
    )
    return sid


async def insert_message(
    pool: asyncpg.Pool,
    account_sid: str,
    service_sid: str | None,
    status_callback: str | None = None,
) -> str:
    sid = sids.new_sid(sids.MESSAGE)
    await pool.execute(
        "INSERT INTO messages (sid, account_sid, messaging_service_sid,"
        " to_address, from_address, body, status, status_callback)"
        " VALUES ($1, $2, $3, $4, $5, 'Shoes 50% off', 'sent', $6)",
        sid,
        account_sid,
        service_sid,
        TO,
        FROM,
        status_callback,
    )
    return sid


async def insert_shop(
    pool: asyncpg.Pool,
    keyring: KeyRing,
    *,
    click_url: str | None,
    service_status_url: str | None = None,
    message_status_url: str | None = None,
) -> Shop:
    """A shop whose clicks and statuses go to the given URLs."""
    account_sid, token = await insert_account(pool, keyring)
    domain_sid = await insert_domain(pool, account_sid, click_url)
    service_sid = await insert_service(pool, account_sid, service_status_url)
    message_sid = await insert_message(
        pool, account_sid, service_sid, message_status_url
    )
    return Shop(account_sid, token, domain_sid, service_sid, message_sid)


def click(shop: Shop) -> LinkClicked:
    """A click on the shop's message's link, a second after it was shortened."""
    created = datetime(2025, 11, 28, 9, 0, 0, 123_000, tzinfo=UTC)
    return LinkClicked(
        code="Ab3dEf9hIj",
        domain_sid=shop.domain_sid,
        message_sid=shop.message_sid,
        account_sid=shop.account_sid,
        messaging_service_sid=shop.service_sid,
        to=TO,
        from_=FROM,
        link=LINK,
        shortened_link="https://ls.owlshoes.test/Ab3dEf9hIj",
        link_created_at=created,
        clicked_at=created + timedelta(seconds=1, milliseconds=456),
        user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
    )


def status(
    shop: Shop, value: str = "sent", error_code: int | None = None
) -> MessageStatusChanged:
    """The shop's message moving to ``value``."""
    return MessageStatusChanged(
        message_sid=shop.message_sid,
        account_sid=shop.account_sid,
        status=value,
        error_code=error_code,
        error_message=None if error_code is None else "Unknown destination handset",
    )
