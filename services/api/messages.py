"""Messages: accepted, validated, stored and announced in one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
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
from libs.common.events import (
    MESSAGE_SCHEDULED,
    MessageScheduled,
    MessageStatusChanged,
)
from libs.common.outbox import enqueue
from libs.common.segments import count_segments
from libs.common.ttlcache import TtlCache

from . import forms
from .ingest import CreateBatcher
from .messaging_services import validity_period
from .phone import to_e164
from .render import rfc2822
from .scheduling import SCHEDULE_LIMIT, check_schedule

log = structlog.get_logger(__name__)

API_VERSION = "2010-04-01"
MAX_BODY = 1600

TO_MISSING = 21604
FROM_MISSING = 21603
TO_INVALID = 21211
FROM_NOT_OWNED = 21606
CONTENT_MISSING = 21619
BODY_TOO_LONG = 21617
CONTENT_SID_REQUIRED = 21654
TOO_MANY_MEDIA = 21623
MAX_MEDIA = 10
SERVICE_MISSING = 21701
SERVICE_WITHOUT_SENDERS = 21704
SERVICE_SID_INVALID = 30127
SHORTENING_NOT_SET_UP = 30106
CERTIFICATE_MISSING = 30107
NOT_CANCELABLE = 30409
# Twilio: "Cannot delete message because delivery has not been completed."
# Also answers a redaction of a message not yet sent.
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
    body, media = read_content(form)
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


def read_content(form: forms.Form) -> tuple[str, list[str]]:
    """The body and media URLs, with Twilio's limits on both and on templates."""
    body = forms.text(form, "Body") or ""
    media = form.getall("MediaUrl", [])
    content_sid = forms.text(form, "ContentSid")
    if forms.text(form, "ContentVariables") and not content_sid:
        raise InvalidParameterError(
            CONTENT_SID_REQUIRED, "ContentVariables requires a ContentSid."
        )
    if not body and not media and not content_sid:
        raise InvalidParameterError(
            CONTENT_MISSING, "A text message body or media urls must be specified."
        )
    if len(media) > MAX_MEDIA:
        raise InvalidParameterError(
            TOO_MANY_MEDIA, f"A message may carry at most {MAX_MEDIA} media URLs."
        )
    if len(body) > MAX_BODY:
        raise InvalidParameterError(
            BODY_TOO_LONG, "The message body exceeds 1600 characters."
        )
    return body, media


@dataclass(frozen=True)
class SendingContext:
    """What the account's rows say about a create request, read in one query."""

    service_found: bool
    has_senders: bool
    owns_from: bool
    has_domain: bool
    domain_verified: bool
    has_certificate: bool
    continue_on_failure: bool


async def sending_context(
    pool: asyncpg.Pool, account_sid: str, request: MessageRequest
) -> SendingContext:
    with translate_db_errors():
        row = await pool.fetchrow(
            "SELECT"
            " EXISTS (SELECT 1 FROM messaging_services"
            "   WHERE sid = $2 AND account_sid = $1) AS service_found,"
            " EXISTS (SELECT 1 FROM service_phone_numbers"
            "   WHERE service_sid = $2) AS has_senders,"
            " EXISTS (SELECT 1 FROM phone_numbers"
            "   WHERE account_sid = $1 AND phone_number = $3) AS owns_from,"
            " d.domain_sid IS NOT NULL AS has_domain,"
            " EXISTS (SELECT 1 FROM domains v WHERE v.sid = d.domain_sid"
            "   AND v.verified_at IS NOT NULL) AS domain_verified,"
            " EXISTS (SELECT 1 FROM domain_certificates c"
            "   WHERE c.domain_sid = d.domain_sid) AS has_certificate,"
            " coalesce((SELECT continue_on_failure FROM domain_configs cfg"
            "   WHERE cfg.domain_sid = d.domain_sid), false) AS continue_on_failure"
            " FROM (SELECT NULL) AS one"
            " LEFT JOIN domain_services d ON d.service_sid = $2",
            account_sid,
            request.service_sid,
            request.from_,
        )
    assert row is not None
    return SendingContext(**dict(row))


ContextKey = tuple[str, str | None, str | None]
ContextCache = TtlCache[ContextKey, SendingContext]


async def check_account_resources(
    pool: asyncpg.Pool,
    account_sid: str,
    request: MessageRequest,
    cache: ContextCache,
) -> None:
    """Checks that need the account's services, numbers and domains.

    A context that passed is remembered briefly: a campaign's thousands of
    creates through one service cost one lookup.  A refusal is never cached,
    so fixing the setup takes effect at once.
    """
    key = (account_sid, request.service_sid, request.from_)
    context = cache.get(key)
    if context is None:
        context = await sending_context(pool, account_sid, request)
    check_context(request, context)
    cache.put(key, context)


def check_context(request: MessageRequest, context: SendingContext) -> None:
    """Refuse the request, with Twilio's code, if the account cannot send it."""
    if request.service_sid is not None and not context.service_found:
        raise InvalidParameterError(
            SERVICE_MISSING,
            f"The Messaging Service {request.service_sid} does not exist.",
        )
    if request.from_ is not None and not context.owns_from:
        raise InvalidParameterError(
            FROM_NOT_OWNED,
            f"The From phone number {request.from_} is not a valid number"
            " for this account.",
        )
    if request.from_ is None and not context.has_senders:
        raise InvalidParameterError(
            SERVICE_WITHOUT_SENDERS, "The Messaging Service contains no phone numbers."
        )
    if request.shorten_urls:
        check_shortening(request, context)


def check_shortening(request: MessageRequest, context: SendingContext) -> None:
    """ShortenUrls needs a service whose domain is verified and has a
    certificate (30106, 30107), unless the domain's ``ContinueOnFailure`` lets
    the message go out with its original links."""
    if request.service_sid is None or not context.has_domain:
        raise InvalidParameterError(
            SHORTENING_NOT_SET_UP,
            "The Messaging Service has no domain set up for link shortening.",
        )
    if context.continue_on_failure:
        return
    if not context.domain_verified:
        raise InvalidParameterError(
            SHORTENING_NOT_SET_UP,
            "The Messaging Service's domain is not verified: publish its TXT"
            " record, then call ValidateDns.",
        )
    if not context.has_certificate:
        raise InvalidParameterError(
            CERTIFICATE_MISSING, "The domain's certificate has not been uploaded."
        )


async def check_scheduled_count(
    conn: asyncpg.Pool | DbConn, account_sid: str, limit: int
) -> None:
    """Refuse with 35125 if the account already has ``limit`` scheduled messages."""
    with translate_db_errors():
        count = await conn.fetchval(
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


# pg_advisory_xact_lock(class, key) namespace for one account's scheduled
# creates; the two-key form never meets the one-key locks used elsewhere.
SCHEDULE_LOCK_CLASS = 0x5343


async def hold_scheduled_limit(conn: DbConn, account_sid: str, limit: int) -> None:
    """Lock the account's scheduled creates until commit, then count again.

    Creates of one account that schedule wait for each other here, so each
    sees the previous one's row and the limit holds under any concurrency.
    Creates that send at once never take the lock.
    """
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))",
        SCHEDULE_LOCK_CLASS,
        account_sid,
    )
    await check_scheduled_count(conn, account_sid, limit)


class _TokenTakenError(Exception):
    """Another request with the same idempotency token created the message."""


async def insert_message(
    pool: asyncpg.Pool,
    account_sid: str,
    request: MessageRequest,
    idempotency_token: str | None = None,
    *,
    scheduled_limit: int,
    batcher: CreateBatcher | None = None,
) -> Mapping[str, Any]:
    """Store the message and its ``message.scheduled`` event atomically.

    A create that sends at once and carries no token goes through
    ``batcher`` (group commit) when one is given.

    With an idempotency token, a second request carrying it gets the message
    the first one created, even when both arrive at once.  A scheduled
    message is counted against ``scheduled_limit`` in the same transaction.
    """
    sid = sids.new_sid(sids.MESSAGE)
    if idempotency_token is not None:
        return await _insert_once(
            pool, sid, account_sid, request, idempotency_token, scheduled_limit
        )
    if request.send_at is None and batcher is not None:
        return await batcher.insert(*new_row(sid, account_sid, request))
    if request.send_at is None:
        with translate_db_errors():
            return await _insert_row(pool, sid, account_sid, request)
    async with transaction(pool) as conn:
        await hold_scheduled_limit(conn, account_sid, scheduled_limit)
        return await _insert_row(conn, sid, account_sid, request)


async def _insert_once(
    pool: asyncpg.Pool,
    sid: str,
    account_sid: str,
    request: MessageRequest,
    token: str,
    scheduled_limit: int,
) -> Mapping[str, Any]:
    """Insert under an idempotency token; a token already taken gets its message."""
    try:
        async with transaction(pool) as conn:
            # The token first: a request holding the lock never waits on a
            # token, so two requests cannot wait on each other.
            await _claim_token(conn, account_sid, token, sid)
            if request.send_at is not None:
                await hold_scheduled_limit(conn, account_sid, scheduled_limit)
            return await _insert_row(conn, sid, account_sid, request)
    except _TokenTakenError:
        existing = await find_by_token(pool, account_sid, token)
        assert existing is not None
        return dict(existing)


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


# One statement writes the message and its outbox event: atomic without a
# transaction block, and one round trip.  Only the timestamps come back; the
# rest of the row is what was sent.
_INSERT_MESSAGE = (
    "WITH message AS (INSERT INTO messages (sid, account_sid, messaging_service_sid,"
    " to_address, from_address, body, status, shorten_urls, send_at,"
    " status_callback, validity_period, num_segments, num_media)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    " RETURNING date_created, date_updated),"
    " event AS (INSERT INTO outbox (topic, key, payload) VALUES ($14, $1, $15))"
    " SELECT * FROM message"
)


def new_row(
    sid: str, account_sid: str, request: MessageRequest
) -> tuple[dict[str, Any], bytes]:
    """The message's row as a create writes it, and its event's payload."""
    event = MessageScheduled(
        message_sid=sid, account_sid=account_sid, send_at=request.send_at
    )
    row = {
        "sid": sid,
        "account_sid": account_sid,
        "messaging_service_sid": request.service_sid,
        "to_address": request.to,
        "from_address": request.from_,
        "body": request.body,
        "status": initial_status(request),
        "shorten_urls": request.shorten_urls,
        "send_at": request.send_at,
        "status_callback": request.status_callback,
        "validity_period": request.validity_period,
        "num_segments": count_segments(request.body) if request.body else 0,
        "num_media": request.num_media,
        "error_code": None,
        "error_message": None,
        "direction": "outbound-api",
        "date_sent": None,
    }
    return row, event.to_bytes()


async def write_row(
    conn: asyncpg.Pool | DbConn, row: Mapping[str, Any], payload: bytes
) -> Mapping[str, Any]:
    """Insert one message with its event; return it with its timestamps."""
    try:
        stamps = await conn.fetchrow(
            _INSERT_MESSAGE,
            row["sid"],
            row["account_sid"],
            row["messaging_service_sid"],
            row["to_address"],
            row["from_address"],
            row["body"],
            row["status"],
            row["shorten_urls"],
            row["send_at"],
            row["status_callback"],
            row["validity_period"],
            row["num_segments"],
            row["num_media"],
            MESSAGE_SCHEDULED,
            payload,
        )
    except asyncpg.ForeignKeyViolationError:
        # The service was deleted between the check and the insert.
        raise InvalidParameterError(
            SERVICE_MISSING,
            f"The Messaging Service {row['messaging_service_sid']} does not exist.",
        ) from None
    assert stamps is not None
    return {**row, **stamps}


async def _insert_row(
    conn: asyncpg.Pool | DbConn, sid: str, account_sid: str, request: MessageRequest
) -> Mapping[str, Any]:
    return await write_row(conn, *new_row(sid, account_sid, request))


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
    """Empty the body of a finished message; one still to send keeps it.

    Redacting a message the dispatcher has yet to send would send it empty,
    so a scheduled message must be canceled first.
    """
    with translate_db_errors():
        row = await pool.fetchrow(
            "UPDATE messages SET body = '', date_updated = now()"
            " WHERE sid = $1 AND account_sid = $2"
            " AND dispatch_state IN ('done', 'canceled') RETURNING *",
            sid,
            account_sid,
        )
    if row is None:
        await fetch_message(pool, account_sid, sid)
        raise ApiError(
            MESSAGE_IN_FLIGHT,
            "A message cannot be redacted before it has been sent;"
            " cancel a scheduled message first.",
        )
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


def render_message(row: Mapping[str, Any] | asyncpg.Record) -> dict[str, Any]:
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
