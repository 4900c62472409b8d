"""Certificate upload, fetch, replace and delete through the SDK, with expiry."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import aiohttp

from tests.support import certs
from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import Account, basic_auth, register_domain, sdk_client
from tests.support.stack import Stack


def tls_cert(domain: str, days_left: int) -> str:
    key, issuer = certs.new_key(), certs.new_key()
    now = datetime.now(UTC)
    leaf = certs.issue(
        domain, key, issuer_key=issuer, not_after=now + timedelta(days=days_left)
    )
    return certs.cert_pem(leaf) + certs.key_pem(key)


async def test_certificate_lifecycle(api_stack: Stack, shop: Account) -> None:
    """Upload, fetch, replace (new SID) and delete a domain's certificate."""
    domain = f"ls{secrets.token_hex(3)}.owlshoes.test"
    domain_sid = (await register_domain(api_stack, shop, domain))["sid"]
    certificate = sdk_client(api_stack, shop.sid, shop.token).messaging.v1.domain_certs(
        domain_sid
    )
    first = await asyncio.to_thread(certificate.update, tls_cert=tls_cert(domain, 90))
    assert first.certificate_sid.startswith("CW")
    assert first.domain_sid == domain_sid
    fetched = await asyncio.to_thread(certificate.fetch)
    assert fetched.certificate_sid == first.certificate_sid
    assert (
        fetched.date_expires.date() == (datetime.now(UTC) + timedelta(days=90)).date()
    )
    second = await asyncio.to_thread(certificate.update, tls_cert=tls_cert(domain, 60))
    assert second.certificate_sid != first.certificate_sid
    assert await asyncio.to_thread(certificate.delete) is True
    error = await rest_error(certificate.fetch)
    assert_twilio_error(error, 20404, 404)


async def test_certificate_close_to_expiry_carries_warning_30131(
    api_stack: Stack, shop: Account
) -> None:
    """Within the warning window the resource says so, with Twilio's 30131."""
    domain = f"ls{secrets.token_hex(3)}.owlshoes.test"
    domain_sid = (await register_domain(api_stack, shop, domain))["sid"]
    url = f"{api_stack.api_url}/v1/LinkShortening/Domains/{domain_sid}/Certificate"
    async with aiohttp.ClientSession(headers=basic_auth(shop.sid, shop.token)) as s:
        async with s.post(url, data={"TlsCert": tls_cert(domain, 5)}) as reply:
            body = await reply.json()
        assert reply.status == 200, body
        assert body["expiry_status"] == "expiring"
        assert [w["code"] for w in body["warnings"]] == [30131]
        async with s.post(url, data={"TlsCert": tls_cert(domain, 200)}) as reply:
            body = await reply.json()
        assert (body["expiry_status"], body["warnings"]) == ("valid", [])
