"""Numbers an account may send from, and each messaging service's sender pool."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from libs.common import sids
from libs.common.db import translate_db_errors
from libs.common.errors import ApiError, NotFoundError

from .paging import Cursor, PageRequest, after, offset
from .phone import country_code, to_e164
from .render import iso8601, rfc2822

# Twilio: "The phone number is already in use" for a number owned elsewhere.
NUMBER_TAKEN = 21452
# Twilio: "Invalid FriendlyName", which must be 1 to 64 characters long.
FRIENDLY_NAME_INVALID = 20002
MAX_FRIENDLY_NAME = 64


@dataclass(frozen=True)
class PhoneNumber:
    sid: str
    account_sid: str
    phone_number: str
    friendly_name: str
    date_created: datetime
    date_updated: datetime


async def register_number(
    pool: asyncpg.Pool, account_sid: str, phone_number: str, friendly_name: str | None
) -> PhoneNumber:
    """Give an account a number to send from (an operator's action)."""
    e164 = to_e164(phone_number, 21421, "PhoneNumber")
    name = check_friendly_name(friendly_name or e164)
    with translate_db_errors():
        row = await pool.fetchrow(
            "INSERT INTO phone_numbers (sid, account_sid, phone_number, friendly_name)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (phone_number) DO NOTHING"
            " RETURNING *",
            sids.new_sid(sids.PHONE_NUMBER),
            account_sid,
            e164,
            name,
        )
    if row is None:
        raise ApiError(NUMBER_TAKEN, f"The phone number {e164} is already in use.")
    return _number(row)


async def add_to_service(
    pool: asyncpg.Pool, account_sid: str, service_sid: str, number_sid: str
) -> PhoneNumber:
    """Put one of the account's numbers into a service's sender pool."""
    with translate_db_errors():
        number = await pool.fetchrow(
            "SELECT * FROM phone_numbers WHERE sid = $1 AND account_sid = $2",
            number_sid,
            account_sid,
        )
        if number is None:
            raise NotFoundError(number_sid)
        await pool.execute(
            "INSERT INTO service_phone_numbers (service_sid, phone_number_sid)"
            " VALUES ($1, $2) ON CONFLICT DO NOTHING",
            service_sid,
            number_sid,
        )
    return _number(number)


async def list_numbers(
    pool: asyncpg.Pool, account_sid: str, page: PageRequest
) -> list[PhoneNumber]:
    """The page's numbers, oldest first, and the next page's first one if any."""
    with translate_db_errors():
        rows = await pool.fetch(
            "SELECT * FROM phone_numbers WHERE account_sid = $1"
            " AND ($2::timestamptz IS NULL OR (date_created, sid) > ($2, $3::text))"
            " ORDER BY date_created, sid LIMIT $4 OFFSET $5",
            account_sid,
            *after(page),
            page.size + 1,
            offset(page),
        )
    return [_number(row) for row in rows]


async def fetch_number(pool: asyncpg.Pool, account_sid: str, sid: str) -> PhoneNumber:
    with translate_db_errors():
        row = await pool.fetchrow(
            "SELECT * FROM phone_numbers WHERE sid = $1 AND account_sid = $2",
            sid,
            account_sid,
        )
    if row is None:
        raise NotFoundError(sid)
    return _number(row)


def check_friendly_name(friendly_name: str) -> str:
    """The name, if it fits Twilio's 64 characters (else 20002)."""
    if len(friendly_name) > MAX_FRIENDLY_NAME:
        raise ApiError(
            FRIENDLY_NAME_INVALID,
            f"FriendlyName is longer than {MAX_FRIENDLY_NAME} characters.",
        )
    return friendly_name


async def rename_number(
    pool: asyncpg.Pool, account_sid: str, sid: str, friendly_name: str
) -> PhoneNumber:
    """Rename the account's number; another account's is not found."""
    check_friendly_name(friendly_name)
    with translate_db_errors():
        row = await pool.fetchrow(
            "UPDATE phone_numbers SET friendly_name = $3, date_updated = now()"
            " WHERE sid = $1 AND account_sid = $2 RETURNING *",
            sid,
            account_sid,
            friendly_name,
        )
    if row is None:
        raise NotFoundError(sid)
    return _number(row)


async def release_number(pool: asyncpg.Pool, account_sid: str, sid: str) -> None:
    """Give a number up; it leaves every sender pool it was in."""
    with translate_db_errors():
        deleted = await pool.fetchval(
            "DELETE FROM phone_numbers WHERE sid = $1 AND account_sid = $2"
            " RETURNING sid",
            sid,
            account_sid,
        )
    if deleted is None:
        raise NotFoundError(sid)


async def service_numbers(
    pool: asyncpg.Pool, service_sid: str, number_sid: str | None = None
) -> list[tuple[PhoneNumber, datetime]]:
    """The service's pool (or one member of it), with when each joined."""
    with translate_db_errors():
        rows = await pool.fetch(
            "SELECT p.*, s.date_created AS joined FROM service_phone_numbers s"
            " JOIN phone_numbers p ON p.sid = s.phone_number_sid"
            " WHERE s.service_sid = $1 AND ($2::text IS NULL OR p.sid = $2)"
            " ORDER BY s.date_created, p.sid",
            service_sid,
            number_sid,
        )
    return [(_number(row), row["joined"]) for row in rows]


async def remove_from_service(
    pool: asyncpg.Pool, service_sid: str, number_sid: str
) -> None:
    with translate_db_errors():
        deleted = await pool.fetchval(
            "DELETE FROM service_phone_numbers WHERE service_sid = $1"
            " AND phone_number_sid = $2 RETURNING phone_number_sid",
            service_sid,
            number_sid,
        )
    if deleted is None:
        raise NotFoundError(number_sid)


def number_position(number: PhoneNumber) -> Cursor:
    """Where ``number`` stands in the account's list, for page tokens."""
    return Cursor(number.date_created, number.sid)


def render_incoming(number: PhoneNumber) -> dict[str, Any]:
    """The 2010-04-01 IncomingPhoneNumber resource; voice fields stay empty."""
    return {
        "sid": number.sid,
        "account_sid": number.account_sid,
        "api_version": "2010-04-01",
        "friendly_name": number.friendly_name,
        "phone_number": number.phone_number,
        "capabilities": {"sms": True, "mms": False, "voice": False, "fax": False},
        "date_created": rfc2822(number.date_created),
        "date_updated": rfc2822(number.date_updated),
        "status": "in-use",
        "origin": "hosted",
        "beta": False,
        "uri": f"/2010-04-01/Accounts/{number.account_sid}"
        f"/IncomingPhoneNumbers/{number.sid}.json",
    }


def render_service_number(
    number: PhoneNumber, service_sid: str, joined: datetime, base_url: str
) -> dict[str, Any]:
    """The v1 Service PhoneNumber resource."""
    return {
        "sid": number.sid,
        "account_sid": number.account_sid,
        "service_sid": service_sid,
        "phone_number": number.phone_number,
        "country_code": country_code(number.phone_number),
        "capabilities": ["SMS"],
        "date_created": iso8601(joined),
        "date_updated": iso8601(joined),
        "url": f"{base_url}/v1/Services/{service_sid}/PhoneNumbers/{number.sid}",
    }


async def owns_number(pool: asyncpg.Pool, account_sid: str, e164: str) -> bool:
    with translate_db_errors():
        found = await pool.fetchval(
            "SELECT 1 FROM phone_numbers WHERE account_sid = $1 AND phone_number = $2",
            account_sid,
            e164,
        )
    return found is not None


async def service_has_senders(pool: asyncpg.Pool, service_sid: str) -> bool:
    with translate_db_errors():
        found = await pool.fetchval(
            "SELECT 1 FROM service_phone_numbers WHERE service_sid = $1 LIMIT 1",
            service_sid,
        )
    return found is not None


def _number(row: asyncpg.Record) -> PhoneNumber:
    return PhoneNumber(
        sid=row["sid"],
        account_sid=row["account_sid"],
        phone_number=row["phone_number"],
        friendly_name=row["friendly_name"],
        date_created=row["date_created"],
        date_updated=row["date_updated"],
    )
