"""An uploaded private key never rests in the database in plain text."""

from __future__ import annotations

import asyncio
import base64
import secrets

import asyncpg
import trustme
from cryptography.hazmat.primitives import serialization

from tests.support.shop import Account, register_domain, sdk_client
from tests.support.stack import Stack


async def database_text(database_url: str) -> str:
    """Every row of every table, as PostgreSQL prints it (bytea as hex)."""
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
        dumps = [
            await conn.fetchval(
                f"SELECT coalesce(string_agg(t::text, chr(10)), '') FROM \"{row[0]}\" t"  # noqa: S608
            )
            for row in tables
        ]
    finally:
        await conn.close()
    return "\n".join(dumps)


async def test_private_key_is_sealed_at_rest(api_stack: Stack, shop: Account) -> None:
    """Neither the key's PEM, its DER nor its base64 appears in any table."""
    domain = f"ls{secrets.token_hex(3)}.owlshoes.test"
    domain_sid = (await register_domain(api_stack, shop, domain))["sid"]
    issued = trustme.CA().issue_cert(domain)
    key_pem = issued.private_key_pem.bytes()
    chain = b"".join(blob.bytes() for blob in issued.cert_chain_pems)
    client = sdk_client(api_stack, shop.sid, shop.token)
    await asyncio.to_thread(
        client.messaging.v1.domain_certs(domain_sid).update,
        tls_cert=(chain + key_pem).decode(),
    )
    key = serialization.load_pem_private_key(key_pem, password=None)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    dump = await database_text(api_stack.env()["PIGEON_DATABASE_URL"])
    assert domain in dump, "the dump must include the certificate's rows"
    for needle in (
        der.hex(),
        base64.b64encode(der).decode()[:64],
        key_pem.decode().splitlines()[1],
        "PRIVATE KEY",
    ):
        assert needle not in dump
