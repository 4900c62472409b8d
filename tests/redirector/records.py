"""Rows the redirector reads, written straight into the test database."""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime

import asyncpg
import trustme
from cryptography.hazmat.primitives import serialization

from libs.common import sids
from libs.common.crypto import KeyRing
from libs.common.db import DbConn

BASE62 = string.digits + string.ascii_letters
TO = "+15558675310"
FROM = "+17145550100"

# A connection, or a pool lending one for each statement.
Executor = DbConn | asyncpg.Pool


def new_code() -> str:
    """A random short code of the shape the redirector serves."""
    return "".join(secrets.choice(BASE62) for _ in range(10))


async def insert_account(conn: Executor, keyring: KeyRing) -> str:
    sid = sids.new_sid(sids.ACCOUNT)
    token = secrets.token_hex(16)
    sealed = keyring.seal(token.encode(), context=sid)
    await conn.execute(
        "INSERT INTO accounts (sid, friendly_name, auth_token_hash,"
        " auth_token_sealed, auth_token_key_id) VALUES ($1, $2, $3, $4, $5)",
        sid,
        "Owl Shoes",
        hashlib.sha256(token.encode()).digest(),
        sealed.blob,
        sealed.key_id,
    )
    return sid


async def insert_domain(
    conn: Executor,
    account_sid: str,
    name: str,
    *,
    fallback_url: str | None = None,
    disable_https: bool = False,
) -> str:
    sid = sids.new_sid(sids.DOMAIN)
    await conn.execute(
        "INSERT INTO domains (sid, account_sid, domain_name, verification_token,"
        " verified_at) VALUES ($1, $2, $3, 'token', now())",
        sid,
        account_sid,
        name,
    )
    await conn.execute(
        "INSERT INTO domain_configs (sid, domain_sid, fallback_url, disable_https)"
        " VALUES ($1, $2, $3, $4)",
        sids.new_sid(sids.DOMAIN_CONFIG),
        sid,
        fallback_url,
        disable_https,
    )
    return sid


async def insert_message(conn: Executor, account_sid: str) -> str:
    sid = sids.new_sid(sids.MESSAGE)
    await conn.execute(
        "INSERT INTO messages (sid, account_sid, to_address, from_address, status)"
        " VALUES ($1, $2, $3, $4, 'sent')",
        sid,
        account_sid,
        TO,
        FROM,
    )
    return sid


async def insert_link(
    conn: Executor,
    *,
    domain_sid: str,
    message_sid: str,
    account_sid: str,
    url: str,
    expires_at: datetime,
) -> str:
    code = new_code()
    await conn.execute(
        "INSERT INTO short_links (code, domain_sid, message_sid, account_sid,"
        " original_url, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        code,
        domain_sid,
        message_sid,
        account_sid,
        url,
        expires_at,
    )
    return code


async def store_certificate(
    conn: Executor, keyring: KeyRing, domain_sid: str, cert: trustme.LeafCert
) -> str:
    """Insert or replace the domain's certificate as the API stores it."""
    sid = sids.new_sid(sids.CERTIFICATE)
    key = serialization.load_pem_private_key(cert.private_key_pem.bytes(), None)
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    sealed = keyring.seal(key_der, context=sid)
    await conn.execute(
        "INSERT INTO domain_certificates (sid, domain_sid, certificate_pem,"
        " private_key_sealed, private_key_key_id, not_before, not_after)"
        " VALUES ($1, $2, $3, $4, $5, now() - interval '1 day',"
        " now() + interval '90 days')"
        " ON CONFLICT (domain_sid) DO UPDATE SET sid = excluded.sid,"
        " certificate_pem = excluded.certificate_pem,"
        " private_key_sealed = excluded.private_key_sealed,"
        " private_key_key_id = excluded.private_key_key_id, date_updated = now()",
        sid,
        domain_sid,
        b"".join(blob.bytes() for blob in cert.cert_chain_pems).decode(),
        sealed.blob,
        sealed.key_id,
    )
    return sid
