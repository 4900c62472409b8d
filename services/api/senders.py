"""Numbers an account may send from, and each messaging service's sender pool."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from libs.common import sids
from libs.common.db import translate_db_errors
from libs.common.errors import ApiError, NotFoundError

from .phone import to_e164

# Twilio: "The phone number is already in use" for a number owned elsewhere.
NUMBER_TAKEN = 21452


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
    with translate_db_errors():
        row = await pool.fetchrow(
            "INSERT INTO phone_numbers (sid, account_sid, phone_number, friendly_name)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (phone_number) DO NOTHING"
            " RETURNING *",
            sids.new_sid(sids.PHONE_NUMBER),
            account_sid,
            e164,
            friendly_name or e164,
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
