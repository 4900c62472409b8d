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
from .paging import Cursor, PageRequest, encode_token, page_uri, read_page

INVALID_DATE = 20001
_FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


def parse_date_filter(value: str) -> tuple[datetime, bool]:
    """A date or instant, leniently; the flag tells whether it was a whole day."""
    text = value.strip()
    try:
        return datetime.combine(date.fromisoformat(text), time(), UTC), True
    except ValueError:
        pass
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            parsed = parse(text)
        except (ValueError, TypeError):
            continue
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)), False
    raise InvalidParameterError(INVALID_DATE, f"DateSent {value!r} is not a date.")


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
        instant, whole_day = parse_date_filter(value)
        end = instant + timedelta(days=1) if whole_day else instant
        if name == "DateSent":
            if whole_day:
                self.add("date_sent >= {} AND date_sent < {}", instant, end)
            else:
                self.add("date_sent = {}", instant)
        elif name == "DateSent<":
            self.add("date_sent < {}" if whole_day else "date_sent <= {}", end)
        else:
            self.add("date_sent >= {}", instant)


async def list_messages(
    pool: asyncpg.Pool, account_sid: str, query: MultiMapping[str]
) -> dict[str, Any]:
    """One page of the account's messages, newest first, in Twilio's envelope."""
    page = read_page(query)
    filters = [(name, query[name]) for name in _FILTERS if query.get(name)]
    where = MessageQuery(account_sid)
    for name, value in filters:
        if name in ("To", "From"):
            column = "to_address" if name == "To" else "from_address"
            where.add(f"{column} = {{}}", value)
        else:
            where.add_date_sent(name, value)
    if page.after is not None:
        where.add(
            "(date_created, sid) < ({}, {})", page.after.date_created, page.after.sid
        )
    offset = 0 if page.after is not None else page.number * page.size
    count = len(where.args)
    # Every clause is a constant of this module; values travel as parameters.
    sql = (
        "SELECT * FROM messages WHERE "  # noqa: S608
        + " AND ".join(where.clauses)
        + " ORDER BY date_created DESC, sid DESC"
        + f" LIMIT ${count + 1} OFFSET ${count + 2}"
    )
    with translate_db_errors():
        rows = await pool.fetch(sql, *where.args, page.size + 1, offset)
    return _envelope(account_sid, filters, page, rows)


def _envelope(
    account_sid: str,
    filters: list[tuple[str, str]],
    page: PageRequest,
    rows: list[asyncpg.Record],
) -> dict[str, Any]:
    path = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
    shown = rows[: page.size]
    next_uri = None
    if len(rows) > page.size:
        last = shown[-1]
        token = encode_token(Cursor(last["date_created"], last["sid"]))
        next_uri = page_uri(path, filters, page, page.number + 1, token)
    start = page.number * page.size
    this_token = encode_token(page.after) if page.after else None
    return {
        "first_page_uri": page_uri(path, filters, page, 0, None),
        "next_page_uri": next_uri,
        "previous_page_uri": None,
        "page": page.number,
        "page_size": page.size,
        "start": start,
        "end": start + max(len(shown) - 1, 0),
        "uri": page_uri(path, filters, page, page.number, this_token),
        "messages": [render_message(row) for row in shown],
    }
