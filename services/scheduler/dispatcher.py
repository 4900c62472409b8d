"""The dispatcher: due messages get their short links and go to the carrier.

Two transactions bracket the carrier calls.  The first moves a batch of
messages from ``due`` to ``dispatching``, picks their senders and writes their
short links; the second records the carrier's answers and the
``message.status`` events.  A message redelivered by Kafka after the first has
committed is skipped, so the carrier sees each message at most once.
"""

from __future__ import annotations

import asyncio
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog

from libs.common.db import DbConn, transaction
from libs.common.errors import RetryableError
from libs.common.events import Event, MessageDue, MessageStatusChanged
from libs.common.outbox import enqueue
from libs.common.segments import count_segments

from .carriers import Carrier, CarrierResult, OutgoingMessage
from .shortening import ShortLink, shorten

log = structlog.get_logger(__name__)

# Twilio's codes for a message that could not be prepared.
NO_SENDER = 21704
SHORTENING_FAILED = 30103
VALIDITY_EXPIRED = 30036
# Twilio's default and largest ValidityPeriod, in seconds.
DEFAULT_VALIDITY_S = 36000


@dataclass(frozen=True)
class Prepared:
    """A message ready for the carrier, or already failed."""

    message: OutgoingMessage
    failure: CarrierResult | None = None


@dataclass(frozen=True)
class LinkDomain:
    sid: str
    name: str
    disable_https: bool
    continue_on_failure: bool
    # Verified and with a certificate: its links can be served.
    usable: bool


@dataclass(frozen=True)
class ServicePolicy:
    """The settings of a messaging service that shape each send."""

    validity_period: int = DEFAULT_VALIDITY_S
    sticky_sender: bool = True

    @classmethod
    def of(cls, attributes: dict[str, Any]) -> ServicePolicy:
        """From the service's stored attributes, with Twilio's defaults."""
        return cls(
            validity_period=attributes.get("validity_period") or DEFAULT_VALIDITY_S,
            sticky_sender=attributes.get("sticky_sender", True),
        )


class Dispatcher:
    """Handles batches of ``message.due`` events."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        carrier: Carrier,
        link_ttl_days: int,
        carrier_concurrency: int,
    ) -> None:
        self._pool = pool
        self._carrier = carrier
        self._link_ttl_days = link_ttl_days
        self._gate = asyncio.Semaphore(carrier_concurrency)

    async def handle_batch(self, events: Sequence[Event]) -> None:
        sids = [event.message_sid for event in events if isinstance(event, MessageDue)]
        batch = await self._prepare(sids)
        if len(batch) < len(sids):
            log.debug("dispatch_skipped", count=len(sids) - len(batch))
        results = await asyncio.gather(*(self._send(item) for item in batch))
        await self._record(list(zip(batch, results, strict=True)))

    async def _send(self, item: Prepared) -> CarrierResult:
        if item.failure is not None:
            return item.failure
        async with self._gate:
            return await self._carrier.send(item.message)

    async def _prepare(self, sids: list[str]) -> list[Prepared]:
        async with transaction(self._pool) as conn:
            # ``waited_s``: time in the queue, from SendAt or from the create.
            rows = await conn.fetch(
                "SELECT *, extract(epoch FROM clock_timestamp()"
                " - coalesce(send_at, date_created))::float8 AS waited_s"
                " FROM messages WHERE sid = ANY($1::text[])"
                " AND dispatch_state = 'due' ORDER BY sid FOR UPDATE SKIP LOCKED",
                sids,
            )
            context = _BatchContext(conn)
            batch = [await self._prepare_one(context, row) for row in rows]
            await conn.executemany(
                "UPDATE messages SET dispatch_state = 'dispatching',"
                " status = 'sending', from_address = $2, body = $3,"
                " num_segments = $4, date_updated = now() WHERE sid = $1",
                [
                    (m.sid, m.from_, m.body, m.num_segments)
                    for m in (item.message for item in batch)
                ],
            )
            await self._store_links(conn, context.links)
        return batch

    async def _prepare_one(
        self, context: _BatchContext, row: asyncpg.Record
    ) -> Prepared:
        service_sid = row["messaging_service_sid"]
        policy = await context.service(service_sid)
        sender = row["from_address"] or await context.sender(
            service_sid, row["to_address"], sticky=policy.sticky_sender
        )
        body, failure = row["body"], None
        validity_s = row["validity_period"] or policy.validity_period
        if row["waited_s"] > validity_s:
            failure = CarrierResult(
                VALIDITY_EXPIRED,
                f"The message waited {row['waited_s']:.0f} s, longer than its"
                f" validity period of {validity_s} s.",
            )
        elif sender is None:
            failure = CarrierResult(NO_SENDER, "The Messaging Service has no sender.")
        elif row["shorten_urls"]:
            body, failure = await context.shorten(
                row, await context.domain(service_sid)
            )
        message = OutgoingMessage(
            sid=row["sid"],
            account_sid=row["account_sid"],
            messaging_service_sid=service_sid,
            from_=sender,
            to=row["to_address"],
            body=body,
            num_segments=count_segments(body),
        )
        return Prepared(message, failure)

    async def _store_links(
        self, conn: DbConn, links: list[tuple[asyncpg.Record, str, ShortLink]]
    ) -> None:
        if not links:
            return
        try:
            await conn.executemany(
                "INSERT INTO short_links (code, domain_sid, message_sid, account_sid,"
                " original_url, expires_at) VALUES ($1, $2, $3, $4, $5,"
                " now() + make_interval(days => $6))",
                [
                    (
                        link.code,
                        domain_sid,
                        row["sid"],
                        row["account_sid"],
                        link.original_url,
                        self._link_ttl_days,
                    )
                    for row, domain_sid, link in links
                ],
            )
        except asyncpg.UniqueViolationError as exc:
            # Two equal codes in ~60 random bits: roll back and draw new ones.
            raise RetryableError("short code collision") from exc

    async def _record(self, outcomes: list[tuple[Prepared, CarrierResult]]) -> None:
        if not outcomes:
            return
        async with transaction(self._pool) as conn:
            await conn.executemany(
                "UPDATE messages SET dispatch_state = 'done', status = $2,"
                " error_code = $3, error_message = $4, date_updated = now(),"
                " date_sent = CASE WHEN $2 = 'sent' THEN now() ELSE NULL END"
                " WHERE sid = $1 AND dispatch_state = 'dispatching'",
                [
                    (
                        item.message.sid,
                        _status(result),
                        result.error_code,
                        result.error_message,
                    )
                    for item, result in outcomes
                ],
            )
            await enqueue(
                conn,
                *(
                    MessageStatusChanged(
                        message_sid=item.message.sid,
                        account_sid=item.message.account_sid,
                        status=_status(result),
                        error_code=result.error_code,
                        error_message=result.error_message,
                    )
                    for item, result in outcomes
                ),
            )
        for item, result in outcomes:
            log.info(
                "message_dispatched",
                sid=item.message.sid,
                status=_status(result),
                error_code=result.error_code,
            )


def _status(result: CarrierResult) -> str:
    return "sent" if result.error_code is None else "failed"


class _BatchContext:
    """Lookups shared by the messages of one batch, each made once."""

    def __init__(self, conn: DbConn) -> None:
        self._conn = conn
        self._pools: dict[str, list[str]] = {}
        self._domains: dict[str, LinkDomain | None] = {}
        self._services: dict[str, ServicePolicy] = {}
        self.links: list[tuple[asyncpg.Record, str, ShortLink]] = []

    async def service(self, service_sid: str | None) -> ServicePolicy:
        """How the message's service sends; Twilio's defaults without one."""
        if service_sid is None:
            return ServicePolicy()
        if service_sid not in self._services:
            attributes = await self._conn.fetchval(
                "SELECT attributes FROM messaging_services WHERE sid = $1",
                service_sid,
            )
            self._services[service_sid] = ServicePolicy.of(attributes or {})
        return self._services[service_sid]

    async def sender(
        self, service_sid: str | None, to: str, *, sticky: bool = True
    ) -> str | None:
        """A number from the service's pool: with a sticky sender the same
        recipient keeps the same one, without it any number may go."""
        if service_sid is None:
            return None
        if service_sid not in self._pools:
            rows = await self._conn.fetch(
                "SELECT p.phone_number FROM service_phone_numbers s"
                " JOIN phone_numbers p ON p.sid = s.phone_number_sid"
                " WHERE s.service_sid = $1 ORDER BY p.phone_number",
                service_sid,
            )
            self._pools[service_sid] = [row["phone_number"] for row in rows]
        numbers = self._pools[service_sid]
        if not numbers:
            return None
        if not sticky:
            return secrets.choice(numbers)
        return numbers[zlib.crc32(to.encode()) % len(numbers)]

    async def domain(self, service_sid: str | None) -> LinkDomain | None:
        if service_sid is None:
            return None
        if service_sid not in self._domains:
            row = await self._conn.fetchrow(
                "SELECT d.sid, d.domain_name,"
                " coalesce(cfg.disable_https, false) AS disable_https,"
                " coalesce(cfg.continue_on_failure, false) AS continue_on_failure,"
                " c.sid IS NOT NULL AND d.verified_at IS NOT NULL AS usable"
                " FROM domain_services ds JOIN domains d ON d.sid = ds.domain_sid"
                " LEFT JOIN domain_configs cfg ON cfg.domain_sid = d.sid"
                " LEFT JOIN domain_certificates c ON c.domain_sid = d.sid"
                " WHERE ds.service_sid = $1",
                service_sid,
            )
            self._domains[service_sid] = (
                LinkDomain(
                    row["sid"],
                    row["domain_name"],
                    row["disable_https"],
                    row["continue_on_failure"],
                    row["usable"],
                )
                if row
                else None
            )
        return self._domains[service_sid]

    async def shorten(
        self, row: asyncpg.Record, domain: LinkDomain | None
    ) -> tuple[str, CarrierResult | None]:
        """The body with short links, or the reason it cannot have them."""
        if domain is None or not domain.usable:
            if domain is not None and domain.continue_on_failure:
                return row["body"], None
            return row["body"], CarrierResult(
                SHORTENING_FAILED, "Links could not be shortened: no usable domain."
            )
        body, links = shorten(
            row["body"], domain.name, disable_https=domain.disable_https
        )
        self.links.extend((row, domain.sid, link) for link in links)
        return body, None
