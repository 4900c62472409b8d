"""Twilio's paging: ``PageSize``, ``Page`` and an opaque ``PageToken``.

Lists are ordered by ``(date_created, sid)``: messages newest first, keys and
numbers oldest first.  A page token names the last row of the previous page,
so a page means the same rows however many new ones arrive meanwhile (keyset
paging, not offsets).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import orjson
from multidict import MultiMapping

from libs.common.errors import InvalidParameterError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
TOKEN_PREFIX = "PA"  # noqa: S105 - a page token prefix, not a secret
INVALID_PAGING = 20001

Row = TypeVar("Row")


@dataclass(frozen=True)
class Cursor:
    """The position after which a page starts."""

    date_created: datetime
    sid: str


@dataclass(frozen=True)
class PageRequest:
    size: int
    number: int
    after: Cursor | None


def encode_token(cursor: Cursor) -> str:
    raw = orjson.dumps({"c": cursor.date_created.isoformat(), "s": cursor.sid})
    return TOKEN_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> Cursor:
    if not token.startswith(TOKEN_PREFIX):
        raise InvalidParameterError(INVALID_PAGING, "PageToken is not valid.")
    body = token[len(TOKEN_PREFIX) :]
    try:
        data = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return Cursor(datetime.fromisoformat(data["c"]), str(data["s"]))
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise InvalidParameterError(INVALID_PAGING, "PageToken is not valid.") from None


def read_page(query: MultiMapping[str]) -> PageRequest:
    """``PageSize`` (1 to 1000), ``Page`` and ``PageToken`` from a query string."""
    return PageRequest(
        size=_bounded(
            query.get("PageSize"), "PageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE
        ),
        number=_bounded(query.get("Page"), "Page", 0, 0, 10**9),
        after=decode_token(query["PageToken"]) if query.get("PageToken") else None,
    )


def _bounded(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidParameterError(
            INVALID_PAGING, f"{name} must be an integer between {low} and {high}."
        )
    return int(raw)


def page_uri(
    path: str,
    filters: Sequence[tuple[str, str]],
    page: PageRequest,
    number: int,
    token: str | None,
) -> str:
    """A relative page URI carrying every filter, as the SDK follows it verbatim."""
    params = [*filters, ("PageSize", str(page.size)), ("Page", str(number))]
    if token is not None:
        params.append(("PageToken", token))
    return f"{path}?{urlencode(params)}"


def after(page: PageRequest) -> tuple[datetime | None, str | None]:
    """The token's ``(date_created, sid)`` as query arguments; NULLs without one."""
    if page.after is None:
        return None, None
    return page.after.date_created, page.after.sid


def offset(page: PageRequest) -> int:
    """Rows to skip: none after a token, else the whole pages before ``Page``."""
    return 0 if page.after is not None else page.number * page.size


def envelope(
    path: str,
    key: str,
    page: PageRequest,
    rows: Sequence[Row],
    render: Callable[[Row], dict[str, Any]],
    position: Callable[[Row], Cursor],
    filters: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The 2010-04-01 list envelope of a page fetched with one row to spare.

    A row beyond ``page.size`` means another page follows; the next page's
    token names the last row shown.  Every page URI carries ``filters``.
    ``key`` holds the records: the SDKs take the one top-level key that is not
    paging metadata for them.
    """
    shown = rows[: page.size]
    next_uri = None
    if len(rows) > page.size:
        token = encode_token(position(shown[-1]))
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
        key: [render(row) for row in shown],
    }
