"""Listing an account's messages with Twilio's filters and paging envelope."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import asyncpg
from multidict import MultiMapping

from libs.common.db import translate_db_errors
from libs.common.errors import InvalidParameterError

from .messages import API_VERSION, render_message
from .paging import Cursor, envelope, offset, read_page
from .phone import e164_or_none

INVALID_DATE = 20001
_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


def parse_date_filter(value: str) -> tuple[datetime, bool]:
    """A UTC instant, leniently; the flag tells whether it names a whole day.

    Twilio's filters take ``YYYY-MM-DD``, but the SDKs send a date as
    midnight (``2026-12-04T00:00:00Z``), so midnight UTC is a whole day too.
    """
    instant = _parse_instant(value.strip())
    if instant is None:
        raise InvalidParameterError(INVALID_DATE, f"DateSent {value!r} is not a date.")
    return instant, instant.time() == time()


def _parse_instant(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text), time(), UTC)
    except ValueError:
        pass
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            parsed = parse(text)
        except (ValueError, TypeError):
            continue
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


class MessageQuery:
    """Builds the WHERE clause of a list request, one filter at a time."""

    def __init__(self, account_sid: str) -> None:
        self.clauses = ["account_sid = $1"]
        self.args: list[Any] = [account_sid]

    def add(self, clause: str, *values: Any) -> None:
        placeholders = [f"${len(self.args) + i + 1}" for i in range(len(values))]
        self.clauses.append(clause.format(*placeholders))
        self.args.extend(values)

    def add_date_sent(self, name: str, value: str) -> None:
        """``DateSent`` matches the value's UTC day; ``<`` and ``>`` include it.

        A ``<`` or ``>`` bound with a time of day is that instant, inclusive.
        ``DateSent`` itself always names a day: send times carry microseconds,
        so an exact instant would match nothing.
        """
        instant, whole_day = parse_date_filter(value)
        day = datetime.combine(instant.date(), time(), UTC)
        if name == "DateSent":
            self.add("date_sent >= {} AND date_sent < {}", day, day + timedelta(days=1))
        elif name == "DateSent<" and whole_day:
            self.add("date_sent < {}", day + timedelta(days=1))
        elif name == "DateSent<":
            self.add("date_sent <= {}", instant)
        else:
            self.add("date_sent >= {}", instant)

    def add_address(self, name: str, value: str) -> None:
        """``To`` or ``From``, read as a phone number the way create reads it."""
        column = "to_address" if name == "To" else "from_address"
        self.add(f"{column} = {{}}", e164_or_none(value) or value)


async def list_messages(
    pool: asyncpg.Pool, account_sid: str, query: MultiMapping[str]
) -> dict[str, Any]:
    """One page of the account's messages, newest first, in Twilio's envelope."""
    page = read_page(query)
    filters = [(name, query[name]) for name in _FILTERS if query.get(name)]
    where = MessageQuery(account_sid)
    for name, value in filters:
        if name in ("To", "From"):
            where.add_address(name, value)
        else:
            where.add_date_sent(name, value)
    if page.after is not None:
        where.add(
            "(date_created, sid) < ({}, {})", page.after.date_created, page.after.sid
        )
    count = len(where.args)
    # Every clause is a constant of this module; values travel as parameters.
    sql = (
        "SELECT * FROM messages WHERE "  # noqa: S608
        + " AND ".join(where.clauses)
        + " ORDER BY date_created DESC, sid DESC"
        + f" LIMIT ${count + 1} OFFSET ${count + 2}"
    )
    with translate_db_errors():
        rows = await pool.fetch(sql, *where.args, page.size + 1, offset(page))
    path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
    return envelope(
        path, "messages", page, rows, render_message, _position, filters=filters
    )


def _position(row: asyncpg.Record) -> Cursor:
    return Cursor(row["date_created"], row["sid"])
