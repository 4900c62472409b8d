"""The dispatcher: a due message gets its short links and goes to the carrier.

Two transactions bracket the carrier call.  The first moves the message from
``due`` to ``dispatching``, picks its sender and writes its short links; the
second records the carrier's answer and the ``message.status`` event.  A
message redelivered by Kafka after the first has committed is skipped, so the
carrier sees each message at most once.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import asyncpg
import structlog

from libs.common.db import DbConn, transaction
from libs.common.events import MessageDue, MessageStatusChanged
from libs.common.outbox import enqueue
from libs.common.segments import count_segments

from .carriers import Carrier, CarrierResult, OutgoingMessage
from .shortening import ShortLink, new_code, shorten

log = structlog.get_logger(__name__)

# Twilio's codes for a message that could not be prepared.
NO_SENDER = 21704
SHORTENING_FAILED = 30103


@dataclass(frozen=True)
class Prepared:
    """A message ready for the carrier, or already failed."""

    message: OutgoingMessage
    failure: CarrierResult | None = None


class Dispatcher:
    """Handles ``message.due`` events."""

    def __init__(
        self, pool: asyncpg.Pool, carrier: Carrier, link_ttl_days: int
    ) -> None:
        self._pool = pool
        self._carrier = carrier
        self._link_ttl_days = link_ttl_days

    async def handle(self, event: MessageDue) -> None:
        prepared = await self._prepare(event.message_sid)
        if prepared is None:
            log.debug("dispatch_skipped", sid=event.message_sid)
            return
        result = prepared.failure or await self._carrier.send(prepared.message)
        await self._record(prepared.message, result)

    async def _prepare(self, sid: str) -> Prepared | None:
        async with transaction(self._pool) as conn:
            row = await conn.fetchrow(
                "SELECT * FROM messages WHERE sid = $1 AND dispatch_state = 'due'"
                " FOR UPDATE",
                sid,
            )
            if row is None:
                return None
            sender = row["from_address"] or await _pick_sender(
                conn, row["messaging_service_sid"], row["to_address"]
            )
            body, failure = row["body"], None
            if sender is None:
                failure = CarrierResult(
                    NO_SENDER, "The Messaging Service has no sender."
                )
            elif row["shorten_urls"]:
                body, failure = await self._shorten(conn, row)
            await conn.execute(
                "UPDATE messages SET dispatch_state = 'dispatching',"
                " status = 'sending', from_address = $2, body = $3,"
                " num_segments = $4, date_updated = now()"
                " WHERE sid = $1",
                sid,
                sender,
                body,
                count_segments(body),
            )
        return Prepared(
            OutgoingMessage(
                sid=sid,
                account_sid=row["account_sid"],
                messaging_service_sid=row["messaging_service_sid"],
                from_=sender,
                to=row["to_address"],
                body=body,
                num_segments=count_segments(body),
            ),
            failure,
        )

    async def _shorten(
        self, conn: DbConn, row: asyncpg.Record
    ) -> tuple[str, CarrierResult | None]:
        domain = await conn.fetchrow(
            "SELECT d.sid, d.domain_name, coalesce(cfg.disable_https, false) AS plain,"
            " coalesce(cfg.continue_on_failure, false) AS keep_going,"
            " c.sid IS NOT NULL AS has_certificate"
            " FROM domain_services ds JOIN domains d ON d.sid = ds.domain_sid"
            " LEFT JOIN domain_configs cfg ON cfg.domain_sid = d.sid"
            " LEFT JOIN domain_certificates c ON c.domain_sid = d.sid"
            " WHERE ds.service_sid = $1",
            row["messaging_service_sid"],
        )
        if domain is None or not domain["has_certificate"]:
            if domain is not None and domain["keep_going"]:
                return row["body"], None
            return row["body"], CarrierResult(
                SHORTENING_FAILED, "Links could not be shortened: no usable domain."
            )
        body, links = shorten(
            row["body"], domain["domain_name"], disable_https=domain["plain"]
        )
        body = await self._store_links(conn, row, domain["sid"], body, links)
        return body, None

    async def _store_links(
        self,
        conn: DbConn,
        row: asyncpg.Record,
        domain_sid: str,
        body: str,
        links: list[ShortLink],
    ) -> str:
        for link in links:
            code = link.code
            while not await conn.fetchval(
                "INSERT INTO short_links (code, domain_sid, message_sid, account_sid,"
                " original_url, expires_at) VALUES ($1, $2, $3, $4, $5,"
                " now() + make_interval(days => $6))"
                " ON CONFLICT (code) DO NOTHING RETURNING true",
                code,
                domain_sid,
                row["sid"],
                row["account_sid"],
                link.original_url,
                self._link_ttl_days,
            ):
                # Two equal codes in ~60 random bits: replace this one and go on.
                replacement = new_code()
                body = body.replace(
                    link.short_url, link.short_url.replace(code, replacement)
                )
                code = replacement
        return body

    async def _record(self, message: OutgoingMessage, result: CarrierResult) -> None:
        status = "sent" if result.error_code is None else "failed"
        async with transaction(self._pool) as conn:
            await conn.execute(
                "UPDATE messages SET dispatch_state = 'done', status = $2,"
                " error_code = $3, error_message = $4, date_updated = now(),"
                " date_sent = CASE WHEN $2 = 'sent' THEN now() ELSE NULL END"
                " WHERE sid = $1 AND dispatch_state = 'dispatching'",
                message.sid,
                status,
                result.error_code,
                result.error_message,
            )
            await enqueue(
                conn,
                MessageStatusChanged(
                    message_sid=message.sid,
                    account_sid=message.account_sid,
                    status=status,
                    error_code=result.error_code,
                    error_message=result.error_message,
                ),
            )
        log.info(
            "message_dispatched",
            sid=message.sid,
            status=status,
            error_code=result.error_code,
        )


async def _pick_sender(conn: DbConn, service_sid: str | None, to: str) -> str | None:
    """A number from the service's pool; the same recipient keeps the same one."""
    if service_sid is None:
        return None
    numbers = await conn.fetch(
        "SELECT p.phone_number FROM service_phone_numbers s"
        " JOIN phone_numbers p ON p.sid = s.phone_number_sid"
        " WHERE s.service_sid = $1 ORDER BY p.phone_number",
        service_sid,
    )
    if not numbers:
        return None
    phone_number: str = numbers[zlib.crc32(to.encode()) % len(numbers)]["phone_number"]
    return phone_number
