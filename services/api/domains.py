"""Branded link-shortening domains, their click-tracking config and services."""

from __future__ import annotations

import re
import secrets
from typing import Any

import asyncpg

from libs.common import sids
from libs.common.db import DbConn, transaction, translate_db_errors
from libs.common.errors import ApiError, InvalidParameterError, NotFoundError
from libs.common.events import CertificateChanged
from libs.common.outbox import enqueue

from . import forms
from .dns_checks import Routing, is_public_suffix, required_records
from .messaging_services import fetch_service
from .render import iso8601

DOMAIN_INVALID = 30100
DOMAIN_TAKEN = 30110
CALLBACK_URL_INVALID = 30109
FALLBACK_URL_INVALID = 30122
SERVICE_TAKEN = 30130

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(name: str) -> str:
    """A host name in lower-case ASCII (IDNA), with no wildcard or IP literal."""
    candidate = name.strip().rstrip(".").lower()
    try:
        ascii_name = candidate.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidParameterError(
            DOMAIN_INVALID, f"{name!r} is not a valid domain name."
        ) from None
    labels = ascii_name.split(".")
    if (
        len(labels) < 2
        or len(ascii_name) > 253
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise InvalidParameterError(
            DOMAIN_INVALID, f"{name!r} is not a valid domain name."
        )
    if is_public_suffix(ascii_name):
        raise InvalidParameterError(
            DOMAIN_INVALID,
            f"{ascii_name} is a public suffix, which nobody can own;"
            " register a domain under it.",
        )
    return ascii_name


async def create_domain(
    pool: asyncpg.Pool, account_sid: str, name: str
) -> asyncpg.Record:
    """Claim a domain for an account, to be proved over DNS.

    Any number of accounts may claim a name nobody has verified; one whose
    name another account has verified is refused (30110).
    """
    domain_name = normalise_domain(name)
    with translate_db_errors():
        row = await pool.fetchrow(
            "INSERT INTO domains (sid, account_sid, domain_name, verification_token)"
            " SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM domains"
            "   WHERE domain_name = $3 AND verified_at IS NOT NULL"
            "   AND account_sid <> $2)"
            " ON CONFLICT (account_sid, domain_name) DO NOTHING RETURNING *",
            sids.new_sid(sids.DOMAIN),
            account_sid,
            domain_name,
            secrets.token_hex(16),
        )
        if row is not None:
            return row
        existing = await pool.fetchval(
            "SELECT sid FROM domains WHERE account_sid = $1 AND domain_name = $2",
            account_sid,
            domain_name,
        )
    if existing is not None:
        raise ApiError(
            DOMAIN_TAKEN,
            f"The domain {domain_name} is already registered to this account"
            f" as {existing}.",
        )
    raise ApiError(
        DOMAIN_TAKEN, f"The domain {domain_name} is verified by another account."
    )


async def list_domains(
    pool: asyncpg.Pool, account_sid: str, limit: int, offset: int
) -> list[asyncpg.Record]:
    with translate_db_errors():
        rows: list[asyncpg.Record] = await pool.fetch(
            "SELECT * FROM domains WHERE account_sid = $1"
            " ORDER BY date_created, sid LIMIT $2 OFFSET $3",
            account_sid,
            limit,
            offset,
        )
    return rows


async def delete_domain(pool: asyncpg.Pool, account_sid: str, sid: str) -> None:
    """Delete a domain with its certificate, config and short links."""
    async with transaction(pool) as conn:
        name = await conn.fetchval(
            "DELETE FROM domains WHERE sid = $1 AND account_sid = $2"
            " RETURNING domain_name",
            sid,
            account_sid,
        )
        if name is None:
            raise NotFoundError(f"/v1/LinkShortening/Domains/{sid}")
        await enqueue(
            conn, CertificateChanged(domain_sid=sid, domain_name=name, action="deleted")
        )


async def fetch_domain(
    conn: asyncpg.Pool | DbConn, account_sid: str, sid: str
) -> asyncpg.Record:
    """The account's domain, or 20404 (another account's domain is not found)."""
    with translate_db_errors():
        row = await conn.fetchrow(
            "SELECT * FROM domains WHERE sid = $1 AND account_sid = $2",
            sid,
            account_sid,
        )
    if row is None:
        raise NotFoundError(f"/v1/LinkShortening/Domains/{sid}")
    return row


def render_domain(
    row: asyncpg.Record, base_url: str, routing: Routing
) -> dict[str, Any]:
    """Pigeon's Domain resource: the records to publish and the last check."""
    return {
        "sid": row["sid"],
        "account_sid": row["account_sid"],
        "domain_name": row["domain_name"],
        "verified": row["verified_at"] is not None,
        "date_verified": iso8601(row["verified_at"]),
        "attested": row["attested"],
        "dns_records": required_records(
            row["domain_name"], row["verification_token"], routing
        ),
        "date_checked": iso8601(row["checked_at"]),
        "verification_reason": row["check_reason"],
        "routing_valid": row["routing_valid"],
        "routing_reason": row["routing_reason"],
        "date_created": iso8601(row["date_created"]),
        "date_updated": iso8601(row["date_updated"]),
        "url": f"{base_url}/v1/LinkShortening/Domains/{row['sid']}",
    }


async def upsert_config(
    pool: asyncpg.Pool, account_sid: str, domain_sid: str, form: forms.Form
) -> asyncpg.Record:
    """Create or change a domain's fallback and callback URLs and flags."""
    await fetch_domain(pool, account_sid, domain_sid)
    fallback = forms.url(form, "FallbackUrl", FALLBACK_URL_INVALID)
    callback = forms.url(form, "CallbackUrl", CALLBACK_URL_INVALID)
    continue_on_failure = forms.boolean(form, "ContinueOnFailure")
    disable_https = forms.boolean(form, "DisableHttps")
    with translate_db_errors():
        row = await pool.fetchrow(
            "INSERT INTO domain_configs (sid, domain_sid, fallback_url, callback_url,"
            " continue_on_failure, disable_https)"
            " VALUES ($1, $2, $3, $4, $5, coalesce($6, false))"
            " ON CONFLICT (domain_sid) DO UPDATE SET"
            " fallback_url = CASE WHEN $7 THEN $3 ELSE domain_configs.fallback_url END,"
            " callback_url = CASE WHEN $8 THEN $4 ELSE domain_configs.callback_url END,"
            " continue_on_failure = coalesce($5, domain_configs.continue_on_failure),"
            " disable_https = coalesce($6, domain_configs.disable_https),"
            " date_updated = now() RETURNING *",
            sids.new_sid(sids.DOMAIN_CONFIG),
            domain_sid,
            fallback,
            callback,
            continue_on_failure,
            disable_https,
            "FallbackUrl" in form,
            "CallbackUrl" in form,
        )
    assert row is not None
    return row


async def fetch_config(
    pool: asyncpg.Pool, account_sid: str, domain_sid: str
) -> asyncpg.Record:
    await fetch_domain(pool, account_sid, domain_sid)
    with translate_db_errors():
        row = await pool.fetchrow(
            "SELECT * FROM domain_configs WHERE domain_sid = $1", domain_sid
        )
    if row is None:
        raise NotFoundError(f"/v1/LinkShortening/Domains/{domain_sid}/Config")
    return row


def render_config(row: asyncpg.Record, base_url: str) -> dict[str, Any]:
    return {
        "domain_sid": row["domain_sid"],
        "config_sid": row["sid"],
        "fallback_url": row["fallback_url"],
        "callback_url": row["callback_url"],
        "continue_on_failure": row["continue_on_failure"],
        "disable_https": row["disable_https"],
        "date_created": iso8601(row["date_created"]),
        "date_updated": iso8601(row["date_updated"]),
        "url": f"{base_url}/v1/LinkShortening/Domains/{row['domain_sid']}/Config",
    }


async def associate_service(
    pool: asyncpg.Pool, account_sid: str, domain_sid: str, service_sid: str
) -> None:
    """Make the domain the one the service shortens links on (30130 if taken)."""
    await fetch_domain(pool, account_sid, domain_sid)
    await fetch_service(pool, account_sid, service_sid)
    with translate_db_errors():
        current = await pool.fetchval(
            "INSERT INTO domain_services (service_sid, domain_sid) VALUES ($1, $2)"
            " ON CONFLICT (service_sid)"
            " DO UPDATE SET domain_sid = domain_services.domain_sid"
            " RETURNING domain_sid",
            service_sid,
            domain_sid,
        )
    if current != domain_sid:
        raise ApiError(
            SERVICE_TAKEN,
            f"Messaging Service {service_sid} already belongs to another domain.",
        )


async def dissociate_service(
    pool: asyncpg.Pool, account_sid: str, domain_sid: str, service_sid: str
) -> None:
    await fetch_domain(pool, account_sid, domain_sid)
    with translate_db_errors():
        deleted = await pool.execute(
            "DELETE FROM domain_services WHERE service_sid = $1 AND domain_sid = $2",
            service_sid,
            domain_sid,
        )
    if deleted == "DELETE 0":
        raise NotFoundError(
            f"/v1/LinkShortening/Domains/{domain_sid}/MessagingServices/{service_sid}"
        )


async def service_domain(
    pool: asyncpg.Pool, account_sid: str, service_sid: str
) -> asyncpg.Record:
    """The domain and config a service shortens links with."""
    with translate_db_errors():
        row = await pool.fetchrow(
            "SELECT ds.service_sid, ds.domain_sid, ds.date_created AS associated_at,"
            " c.sid AS config_sid, c.fallback_url, c.callback_url,"
            " c.continue_on_failure, c.date_created, c.date_updated"
            " FROM domain_services ds JOIN domains d ON d.sid = ds.domain_sid"
            " LEFT JOIN domain_configs c ON c.domain_sid = ds.domain_sid"
            " WHERE ds.service_sid = $1 AND d.account_sid = $2",
            service_sid,
            account_sid,
        )
    if row is None:
        raise NotFoundError(
            f"/v1/LinkShortening/MessagingService/{service_sid}/DomainConfig"
        )
    return row
