"""Rotating the master key re-seals every stored secret under the new key."""

from __future__ import annotations

import asyncio
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator

import asyncpg
import orjson
import pytest
import trustme

from libs.common.crypto import KeyRing, Sealed, generate_master_key
from tests.support.processes import REPO_ROOT
from tests.support.shop import open_account, register_domain, sdk_client
from tests.support.stack import Stack, api_only


@pytest.fixture(scope="module")
async def rotating_stack(
    service_env: dict[str, str],
    admin_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """An API on a database of its own, so rotation touches no other test."""
    log_dir = tmp_path_factory.mktemp("rotation-logs")
    async with api_only(service_env, admin_database_url, log_dir) as stack:
        yield stack


async def rotate(stack: Stack, master_key: str) -> dict[str, object]:
    env = stack.env({"PIGEON_MASTER_KEY": master_key})
    completed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.api.admin", "rotate-master-key"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    result: dict[str, object] = orjson.loads(completed.stdout)
    return result


async def test_rotation_reseals_keys_and_tokens(rotating_stack: Stack) -> None:
    """After rotation every secret opens with the new key alone."""
    stack = rotating_stack
    account = await open_account(stack, "Rotator", "+17145550191")
    domain = f"ls{secrets.token_hex(3)}.owlshoes.test"
    domain_sid = (await register_domain(stack, account, domain))["sid"]
    issued = trustme.CA().issue_cert(domain)
    tls_cert = b"".join(
        [*(b.bytes() for b in issued.cert_chain_pems), issued.private_key_pem.bytes()]
    )
    client = sdk_client(stack, account.sid, account.token)
    await asyncio.to_thread(
        client.messaging.v1.domain_certs(domain_sid).update, tls_cert=tls_cert.decode()
    )
    old = stack.env()["PIGEON_MASTER_KEY"]
    new = generate_master_key("next")

    first = await rotate(stack, f"{new},{old}")
    assert first["active_key_id"] == "next"
    assert first["resealed"] == {"domain_certificates": 1, "accounts": 1}
    again = await rotate(stack, f"{new},{old}")
    assert again["resealed"] == {"domain_certificates": 0, "accounts": 0}

    only_new = KeyRing.parse(new)
    conn = await asyncpg.connect(stack.env()["PIGEON_DATABASE_URL"])
    try:
        token_row = await conn.fetchrow(
            "SELECT auth_token_sealed, auth_token_key_id FROM accounts WHERE sid = $1",
            account.sid,
        )
        cert_row = await conn.fetchrow(
            "SELECT sid, private_key_sealed, private_key_key_id"
            " FROM domain_certificates WHERE domain_sid = $1",
            domain_sid,
        )
    finally:
        await conn.close()
    assert token_row is not None
    assert cert_row is not None
    token = only_new.unseal(
        Sealed(token_row["auth_token_key_id"], token_row["auth_token_sealed"]),
        account.sid,
    )
    assert token.decode() == account.token
    key_der = only_new.unseal(
        Sealed(cert_row["private_key_key_id"], cert_row["private_key_sealed"]),
        cert_row["sid"],
    )
    assert key_der.startswith(b"\x30")
