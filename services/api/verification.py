"""Domain verification: DNS checks turned into the domain's state.

A check that finds the TXT record verifies the domain; one that finds it
missing or wrong takes a verified domain's verification away, unless the
operator vouches for the domain; one that gets no answer (a timeout, a failing
nameserver) changes nothing.  Every change is
announced on ``domain.certificate`` in the same transaction, so redirectors
start or stop serving the domain.  ``DomainWatcher`` checks every domain again
on a timer; several API replicas share the work.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from prometheus_client import Counter

from libs.common.db import DbConn, transaction, translate_db_errors
from libs.common.errors import NotFoundError, PermanentError, PigeonError
from libs.common.events import CertificateChanged
from libs.common.outbox import enqueue

from .dns_checks import Finding, Resolver, Routing, check_ownership, check_routing
from .render import iso8601

log = structlog.get_logger(__name__)

# A claim still unproved after a week is checked this many times less often:
# its owner has most likely given up, and its DNS is somebody else's.
STALE_CLAIM_AGE_S = 7 * 24 * 3600.0
STALE_CLAIM_SLOWDOWN = 24

DOMAIN_CHECKS = Counter(
    "pigeon_domain_checks_total",
    "DNS checks of branded domains, by what they found.",
    ["outcome"],
)


@dataclass(frozen=True)
class Validation:
    """A domain after a check, with what the check found."""

    domain: Mapping[str, Any]
    ownership: Finding
    routing: Finding


async def validate_domain(
    pool: asyncpg.Pool, resolver: Resolver, routing: Routing, domain: asyncpg.Record
) -> Validation:
    """Check the domain's DNS now and record what was found."""
    name = domain["domain_name"]
    async with resolver.channel() as lookup:
        ownership, route = await asyncio.gather(
            check_ownership(lookup, name, domain["verification_token"]),
            check_routing(lookup, name, routing),
        )
    taken = Finding(False, f"{name} is already verified by another account.")
    try:
        row = await _record(pool, domain, ownership, route, taken.reason)
    except PermanentError as exc:
        # Two accounts proved the same name at once; the other one won.
        if not isinstance(exc.__cause__, asyncpg.UniqueViolationError):
            raise
        row = await _record(pool, domain, Finding(None, taken.reason), route, "")
        row = {**row, "taken": True}
    return Validation(row, taken if row["taken"] else ownership, route)


async def _record(
    pool: asyncpg.Pool,
    domain: asyncpg.Record,
    ownership: Finding,
    route: Finding,
    taken_reason: str,
) -> Mapping[str, Any]:
    """Store the check's outcome; a name verified elsewhere stays unverified."""
    async with transaction(pool) as conn:
        row = await conn.fetchrow(
            "UPDATE domains d SET verified_at = CASE"
            "   WHEN $2 AND NOT before.taken THEN coalesce(d.verified_at, now())"
            "   WHEN NOT $2 AND NOT d.attested THEN NULL ELSE d.verified_at END,"
            " checked_at = now(),"
            " check_reason = CASE WHEN $2 AND before.taken THEN $6 ELSE $3 END,"
            " routing_valid = $4, routing_reason = $5"
            " FROM (SELECT sid, verified_at, EXISTS (SELECT 1 FROM domains o"
            "     WHERE o.domain_name = domains.domain_name AND o.sid <> domains.sid"
            "     AND o.verified_at IS NOT NULL) AS taken"
            "   FROM domains WHERE sid = $1 FOR UPDATE) AS before"
            " WHERE d.sid = before.sid RETURNING d.*, before.taken,"
            " before.verified_at IS NOT NULL AS was_verified",
            domain["sid"],
            ownership.valid,
            ownership.reason,
            route.valid,
            route.reason,
            taken_reason,
        )
        if row is None:  # deleted meanwhile
            return {**dict(domain), "taken": False}
        await _announce(conn, row)
    return dict(row)


async def _announce(conn: DbConn, row: asyncpg.Record) -> None:
    verified = row["verified_at"] is not None
    if verified == row["was_verified"]:
        DOMAIN_CHECKS.labels("verified" if verified else "unverified").inc()
        return
    if verified:
        DOMAIN_CHECKS.labels("gained").inc()
        log.info("domain_verified", domain=row["domain_name"], sid=row["sid"])
    else:
        DOMAIN_CHECKS.labels("lost").inc()
        log.warning(
            "domain_verification_lost",
            domain=row["domain_name"],
            sid=row["sid"],
            reason=row["check_reason"],
        )
    await enqueue(
        conn,
        CertificateChanged(
            domain_sid=row["sid"],
            domain_name=row["domain_name"],
            action="verified" if verified else "unverified",
        ),
    )


def render_validation(validation: Validation, base_url: str) -> dict[str, Any]:
    """Twilio's DomainDnsValidation, with Pigeon's verification and routing."""
    domain = validation.domain
    return {
        "domain_sid": domain["sid"],
        "is_valid": validation.ownership.valid is True,
        "reason": validation.ownership.reason,
        "url": f"{base_url}/v1/LinkShortening/Domains/{domain['sid']}/ValidateDns",
        "domain_name": domain["domain_name"],
        "verified": domain["verified_at"] is not None,
        "date_verified": iso8601(domain["verified_at"]),
        "routing": {
            "is_valid": validation.routing.valid,
            "reason": validation.routing.reason,
        },
    }


class DomainWatcher:
    """Checks each domain again once its interval has passed."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        resolver: Resolver,
        routing: Routing,
        *,
        interval_s: float,
        poll_s: float,
        batch: int,
    ) -> None:
        self._pool = pool
        self._resolver = resolver
        self._routing = routing
        self._interval_s = interval_s
        self._poll_s = poll_s
        self._batch = batch

    async def run(self) -> None:
        """Check due domains until cancelled; a busy round goes on at once."""
        while True:
            try:
                checked = await self.check_due()
            except PigeonError as exc:
                log.warning("domain_checks_failed", error=str(exc))
                checked = 0
            if checked < self._batch:
                await asyncio.sleep(self._poll_s)

    async def check_due(self) -> int:
        """Check the domains whose last check is older than the interval
        (``STALE_CLAIM_SLOWDOWN`` intervals for a stale claim)."""
        with translate_db_errors():
            # Claiming moves checked_at on, so another replica skips them.
            due = await self._pool.fetch(
                "UPDATE domains SET checked_at = now() WHERE sid IN ("
                " SELECT sid FROM domains WHERE checked_at IS NULL"
                "   OR checked_at < now() - make_interval(secs => $1 * CASE"
                "     WHEN verified_at IS NULL AND date_created < now()"
                "       - make_interval(secs => $3) THEN $4 ELSE 1 END)"
                " ORDER BY checked_at NULLS FIRST LIMIT $2 FOR UPDATE SKIP LOCKED)"
                " RETURNING *",
                self._interval_s,
                self._batch,
                STALE_CLAIM_AGE_S,
                STALE_CLAIM_SLOWDOWN,
            )
        results = await asyncio.gather(
            *(self._check(domain) for domain in due), return_exceptions=True
        )
        for domain, result in zip(due, results, strict=True):
            if isinstance(result, BaseException):
                log.warning(
                    "domain_check_failed",
                    domain=domain["domain_name"],
                    error=str(result),
                )
        return len(due)

    async def _check(self, domain: asyncpg.Record) -> None:
        with translate_db_errors():
            await validate_domain(self._pool, self._resolver, self._routing, domain)


async def attest_domain(pool: asyncpg.Pool, domain_sid: str) -> Mapping[str, Any]:
    """Verify a domain on the operator's word; DNS checks keep it verified."""
    try:
        async with transaction(pool) as conn:
            row = await conn.fetchrow(
                "UPDATE domains SET attested = true,"
                " verified_at = coalesce(verified_at, now()), date_updated = now()"
                " WHERE sid = $1 RETURNING *",
                domain_sid,
            )
            if row is None:
                raise NotFoundError(f"/v1/LinkShortening/Domains/{domain_sid}")
            await enqueue(
                conn,
                CertificateChanged(
                    domain_sid=domain_sid,
                    domain_name=row["domain_name"],
                    action="verified",
                ),
            )
    except PermanentError as exc:
        if isinstance(exc.__cause__, asyncpg.UniqueViolationError):
            raise PermanentError(
                f"domain {domain_sid}: its name is verified by another account"
            ) from None
        raise
    log.info("domain_attested", domain=row["domain_name"], sid=domain_sid)
    return dict(row)
