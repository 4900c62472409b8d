"""Messages: accepted, validated, stored and announced in one transaction."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog

from libs.common import sids
from libs.common.db import DbConn, transaction, translate_db_errors
from libs.common.errors import (
    ApiError,
    InvalidParameterError,
    NotFoundError,
    RetryableError,
)
from libs.common.events import MessageScheduled, MessageStatusChanged
from libs.common.outbox import enqueue
from libs.common.segments import count_segments

from . import forms
from .messaging_services import fetch_service, validity_period
from .phone import to_e164
from .render import rfc2822
from .scheduling import SCHEDULE_LIMIT, check_schedule
from .senders import owns_number, service_has_senders

log = structlog.get_logger(__name__)

API_VERSION = "2010-04-01"
MAX_BODY = 1600

TO_MISSING = 21604
FROM_MISSING = 21603
TO_INVALID = 21211
FROM_NOT_OWNED = 21606
CONTENT_MISSING = 21619
BODY_TOO_LONG = 21617
SERVICE_MISSING = 21701
SERVICE_WITHOUT_SENDERS = 21704
SERVICE_SID_INVALID = 30127
SHORTENING_NOT_SET_UP = 30106
CERTIFICATE_MISSING = 30107
NOT_CANCELABLE = 30409
# Twilio: "Cannot delete message because delivery has not been completed."
MESSAGE_IN_FLIGHT = 20009


@dataclass(frozen=True)
class MessageRequest:
    """A create request after the checks that need no database."""

    to: str
    from_: str | None
    service_sid: str | None
    body: str
    num_media: int
    shorten_urls: bool
    send_at: datetime | None
    status_callback: str | None
    validity_period: int | None


def read_request(
    form: forms.Form, *, now: datetime, min_lead: timedelta, max_lead: timedelta
) -> MessageRequest:
    """Validate a create request's parameters, in the order Twilio does."""
    to = to_e164(forms.required(form, "To", TO_MISSING), TO_INVALID)
    service_sid = forms.sid(form, "MessagingServiceSid", sids.SERVICE, SERVICE_MISSING)
    sender = forms.text(form, "From") or None
    if sender is None and service_sid is None:
        raise InvalidParameterError(FROM_MISSING, "A 'From' phone number is required.")
    body = forms.text(form, "Body") or ""
    media = form.getall("MediaUrl", [])
    if not body and not media and not forms.text(form, "ContentSid"):
        raise InvalidParameterError(
            CONTENT_MISSING, "A text message body or media urls must be specified."
        )
    if len(body) > MAX_BODY:
        raise InvalidParameterError(
            BODY_TOO_LONG, "The message body exceeds 1600 characters."
        )
    send_at = check_schedule(
        forms.text(form, "ScheduleType"),
        forms.text(form, "SendAt"),
        service_sid,
        now=now,
        min_lead=min_lead,
        max_lead=max_lead,
    )
    return MessageRequest(
        to=to,
        from_=to_e164(sender, FROM_NOT_OWNED, "From") if sender else None,
        service_sid=service_sid,
        body=body,
        num_media=len(media),
        shorten_urls=bool(forms.boolean(form, "ShortenUrls", False)),
        send_at=send_at,
        status_callback=forms.url(form, "StatusCallback", 21609),
        validity_period=validity_period(forms.integer(form, "ValidityPeriod", 90007)),
    )


async def check_account_resources(
    pool: asyncpg.Pool, account_sid: str, request: MessageRequest, scheduled_limit: int
) -> None:
    """Checks that need the account's services, numbers and domains."""
    if request.service_sid is not None:
        try:
            await fetch_service(pool, account_sid, request.service_sid)
        except NotFoundError:
            raise InvalidParameterError(
                SERVICE_MISSING,
                f"The Messaging Service {request.service_sid} does not exist.",
            ) from None
    if request.from_ is not None and not await owns_number(
        pool, account_sid, request.from_
    ):
        raise InvalidParameterError(
            FROM_NOT_OWNED,
            f"The From phone number {request.from_} is not a valid number"
            " for this account.",
        )
    if (
        request.from_ is None
        and request.service_sid is not None
        and not await service_has_senders(pool, request.service_sid)
    ):
        raise InvalidParameterError(
            SERVICE_WITHOUT_SENDERS,
            "The Messaging Service contains no phone numbers.",
        )
    if request.shorten_urls:
        await check_shortening(pool, request.service_sid)
    if request.send_at is not None:
        await check_scheduled_count(pool, account_sid, scheduled_limit)


async def check_shortening(pool: asyncpg.Pool, service_sid: str | None) -> None:
    """ShortenUrls needs a service whose domain has a certificate (30106, 30107)."""
    if service_sid is None:
        raise InvalidParameterError(
            SHORTENING_NOT_SET_UP, "ShortenUrls requires a MessagingServiceSid."
        )
    with translate_db_errors():
        row = await pool.fetchrow(
            "SELECT c.sid AS certificate_sid, cfg.continue_on_failure"
            " FROM domain_services ds"
            " LEFT JOIN domain_certificates c ON c.domain_sid = ds.domain_sid"
            " LEFT JOIN domain_configs cfg ON cfg.domain_sid = ds.domain_sid"
            " WHERE ds.service_sid = $1",
            service_sid,
        )
    if row is None:
        raise InvalidParameterError(
            SHORTENING_NOT_SET_UP,
            "The Messaging Service has no domain set up for link shortening.",
        )
    if row["certificate_sid"] is None and not row["continue_on_failure"]:
        raise InvalidParameterError(
            CERTIFICATE_MISSING, "The domain's certificate has not been uploaded."
        )


async def check_scheduled_count(
    pool: asyncpg.Pool, account_sid: str, limit: int
) -> None:
    with translate_db_errors():
        count = await pool.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM messages WHERE account_sid = $1"
            " AND status = 'scheduled' LIMIT $2) AS s",
            account_sid,
            limit,
        )
    if count >= limit:
        raise InvalidParameterError(
            SCHEDULE_LIMIT,
            "Maximum limit reached in the account for scheduling messages.",
        )


def initial_status(request: MessageRequest) -> str:
    """``scheduled``, ``accepted`` (through a service) or ``queued``."""
    if request.send_at is not None:
        return "scheduled"
    return "accepted" if request.service_sid is not None else "queued"


class _TokenTakenError(Exception):
    """Another request with the same idempotency token created the message."""


async def insert_message(
    pool: asyncpg.Pool,
    account_sid: str,
    request: MessageRequest,
    idempotency_token: str | None = None,
) -> asyncpg.Record:
    """Store the message and its ``message.scheduled`` event atomically.

    With an idempotency token, a second request carrying it gets the message
    the first one created, even when both arrive at once.
    """
    sid = sids.new_sid(sids.MESSAGE)
    try:
        async with transaction(pool) as conn:
            if idempotency_token is not None:
                await _claim_token(conn, account_sid, idempotency_token, sid)
            row = await _insert_row(conn, sid, account_sid, request)
            await enqueue(
                conn,
                MessageScheduled(
                    message_sid=sid, account_sid=account_sid, send_at=request.send_at
                ),
            )
    except _TokenTakenError:
        assert idempotency_token is not None
        existing = await find_by_token(pool, account_sid, idempotency_token)
        assert existing is not None
        return existing
    return row


async def _claim_token(conn: DbConn, account_sid: str, token: str, sid: str) -> None:
    claimed = await conn.fetchval(
        "INSERT INTO idempotency_tokens (account_sid, token, message_sid)"
        " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING message_sid",
        account_sid,
        token,
        sid,
    )
    if claimed is None:
        raise _TokenTakenError


async def _insert_row(
    conn: DbConn, sid: str, account_sid: str, request: MessageRequest
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO messages (sid, account_sid, messaging_service_sid, to_address,"
        " from_address, body, status, shorten_urls, send_at, status_callback,"
        " validity_period, num_segments, num_media)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        " RETURNING *",
        sid,
        account_sid,
        request.service_sid,
        request.to,
        request.from_,
        request.body,
        initial_status(request),
        request.shorten_urls,
        request.send_at,
        request.status_callback,
        request.validity_period,
        count_segments(request.body) if request.body else 0,
        request.num_media,
    )
    assert row is not None
    return row


async def find_by_token(
    pool: asyncpg.Pool, account_sid: str, token: str
) -> asyncpg.Record | None:
    """The message an earlier request with this idempotency token created."""
    with translate_db_errors():
        return await pool.fetchrow(
            "SELECT m.* FROM idempotency_tokens t JOIN messages m"
            " ON m.sid = t.message_sid WHERE t.account_sid = $1 AND t.token = $2",
            account_sid,
            token,
        )


async def fetch_message(
    pool: asyncpg.Pool, account_sid: str, sid: str
) -> asyncpg.Record:
    with translate_db_errors():
        row = await pool.fetchrow(
            "SELECT * FROM messages WHERE sid = $1 AND account_sid = $2",
            sid,
            account_sid,
        )
    if row is None:
        raise NotFoundError(f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json")
    return row


async def cancel_message(
    pool: asyncpg.Pool, account_sid: str, sid: str
) -> asyncpg.Record:
    """Cancel a scheduled message, unless the scheduler has already taken it."""
    async with transaction(pool) as conn:
        row = await conn.fetchrow(
            "UPDATE messages SET status = 'canceled', dispatch_state = 'canceled',"
            " date_updated = now() WHERE sid = $1 AND account_sid = $2"
            " AND status = 'scheduled' AND dispatch_state = 'pending' RETURNING *",
            sid,
            account_sid,
        )
        if row is not None:
            await enqueue(
                conn,
                MessageStatusChanged(
                    message_sid=sid, account_sid=account_sid, status="canceled"
                ),
            )
    if row is None:
        await fetch_message(pool, account_sid, sid)
        raise ApiError(NOT_CANCELABLE, "This message cannot be canceled.")
    return row


async def redact_message(
    pool: asyncpg.Pool, account_sid: str, sid: str
) -> asyncpg.Record:
    with translate_db_errors():
        row = await pool.fetchrow(
            "UPDATE messages SET body = '', date_updated = now()"
            " WHERE sid = $1 AND account_sid = $2 RETURNING *",
            sid,
            account_sid,
        )
    if row is None:
        raise NotFoundError(f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json")
    return row


async def delete_message(pool: asyncpg.Pool, account_sid: str, sid: str) -> None:
    """Delete a message that is not waiting to be sent (cancel it first)."""
    with translate_db_errors():
        deleted = await pool.fetchval(
            "DELETE FROM messages WHERE sid = $1 AND account_sid = $2"
            " AND dispatch_state IN ('done', 'canceled') RETURNING sid",
            sid,
            account_sid,
        )
    if deleted is None:
        await fetch_message(pool, account_sid, sid)
        raise ApiError(
            MESSAGE_IN_FLIGHT, "A message cannot be deleted before it has been sent."
        )


async def prune_tokens_forever(pool: asyncpg.Pool, ttl_s: int, every_s: float) -> None:
    """Forget idempotency tokens older than ``ttl_s``, every ``every_s``."""
    while True:
        try:
            with translate_db_errors():
                await pool.execute(
                    "DELETE FROM idempotency_tokens"
                    " WHERE date_created < now() - make_interval(secs => $1)",
                    float(ttl_s),
                )
        except RetryableError as exc:
            log.warning("token_prune_failed", error=str(exc))
        await asyncio.sleep(every_s)


def message_uri(account_sid: str, sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json"


def render_message(row: asyncpg.Record) -> dict[str, Any]:
    """The 2010-04-01 Message resource, field for field."""
    uri = message_uri(row["account_sid"], row["sid"])
    return {
        "account_sid": row["account_sid"],
        "api_version": API_VERSION,
        "body": row["body"],
        "date_created": rfc2822(row["date_created"]),
        "date_sent": rfc2822(row["date_sent"]),
        "date_updated": rfc2822(row["date_updated"]),
        "direction": row["direction"],
        "error_code": row["error_code"],
        "error_message": row["error_message"],
        "from": row["from_address"],
        "messaging_service_sid": row["messaging_service_sid"],
        "num_media": str(row["num_media"]),
        "num_segments": str(row["num_segments"]),
        "price": None,
        "price_unit": "USD",
        "sid": row["sid"],
        "status": row["status"],
        "subresource_uris": {"media": uri.removesuffix(".json") + "/Media.json"},
        "to": row["to_address"],
        "uri": uri,
    }


def now_utc() -> datetime:
    return datetime.now(UTC)
