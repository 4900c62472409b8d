"""Bad domain, certificate, config and association requests, with their codes."""

from __future__ import annotations

import asyncio
import base64
import secrets
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support import certs
from tests.support.dns import DnsZone
from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import (
    Account,
    basic_auth,
    register_domain,
    sdk_client,
    service_on_domain,
    verify_domain,
)
from tests.support.stack import Stack


async def post(
    stack: Stack, account: Account, path: str, data: dict[str, str]
) -> tuple[int, dict[str, object]]:
    headers = basic_auth(account.sid, account.token)
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(stack.api_url + path, data=data) as reply,
    ):
        return reply.status, await reply.json()


async def new_domain(stack: Stack, account: Account) -> tuple[str, str]:
    """Register a fresh domain; return its SID and name."""
    name = f"ls{secrets.token_hex(4)}.owlshoes.test"
    body = await register_domain(stack, account, name)
    return str(body["sid"]), name


@pytest.mark.parametrize(
    "name", ["", "no_underscores.example.com", "*.example.com", "192.0.2.1", "single"]
)
async def test_invalid_domain_names_are_refused(
    api_stack: Stack, shop: Account, name: str
) -> None:
    """Wildcards, IP literals, bad labels and missing names answer 30100."""
    status, body = await post(
        api_stack, shop, "/v1/LinkShortening/Domains", {"DomainName": name}
    )
    assert (status, body["code"]) == (400, 30100)


async def test_another_accounts_domain_is_not_found(
    api_stack: Stack, shop: Account, rival: Account
) -> None:
    """Certificate, config and association calls on another's domain are 404s."""
    domain_sid, _ = await new_domain(api_stack, shop)
    client = sdk_client(api_stack, rival.sid, rival.token)
    for call, params in [
        (client.messaging.v1.domain_config(domain_sid).fetch, {}),
        (client.messaging.v1.domain_certs(domain_sid).fetch, {}),
        (
            client.messaging.v1.domain_config(domain_sid).update,
            {"fallback_url": "https://a.test/"},
        ),
    ]:
        error = await rest_error(call, **params)
        assert_twilio_error(error, 20404, 404)


def tls_cert_cases(domain: str) -> list[tuple[str, str, int]]:
    """Bad ``TlsCert`` values for ``domain`` and the code each must get."""
    ca = trustme.CA()
    good = ca.issue_cert(domain)
    chain = "".join(blob.bytes().decode() for blob in good.cert_chain_pems)
    good_key = good.private_key_pem.bytes().decode()
    key = certs.new_key()
    issuer = certs.new_key()
    now = datetime.now(UTC)
    expired = certs.issue(
        domain,
        key,
        issuer_key=issuer,
        not_before=now - timedelta(days=90),
        not_after=now - timedelta(days=1),
    )
    elsewhere = certs.issue("other.example.test", key, issuer_key=issuer)
    self_signed = certs.issue(domain, key)
    # A deliberately weak key, to be refused.
    weak_rsa = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    weak = certs.issue(domain, weak_rsa, issuer_key=issuer)
    p521 = ec.generate_private_key(ec.SECP521R1())
    odd_curve = certs.issue(domain, p521, issuer_key=issuer)
    middle_key = certs.new_key()
    middle = certs.intermediate(issuer, middle_key)
    root = certs.issue("Test Issuing CA", issuer)
    below_middle = certs.issue(
        domain, key, issuer_key=middle_key, issuer_name="Test Intermediate CA"
    )
    shuffled = "".join(certs.cert_pem(c) for c in (below_middle, root, middle))
    der = base64.b64encode(below_middle.public_bytes(serialization.Encoding.DER))
    return [
        ("garbage", "this is not a certificate", 30116),
        ("key missing", chain, 30116),
        ("certificate missing", good_key, 30116),
        (
            "unparsable certificate",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" + good_key,
            30117,
        ),
        ("encrypted key", chain + certs.key_pem(key, password=b"secret"), 30118),
        ("mismatched key", chain + certs.key_pem(certs.new_key()), 30119),
        ("expired", certs.cert_pem(expired) + certs.key_pem(key), 30133),
        ("wrong domain", certs.cert_pem(elsewhere) + certs.key_pem(key), 30133),
        ("self-signed", certs.cert_pem(self_signed) + certs.key_pem(key), 30129),
        ("1024-bit RSA", certs.cert_pem(weak) + certs.key_pem(weak_rsa), 30118),
        ("P-521 key", certs.cert_pem(odd_curve) + certs.key_pem(p521), 30118),
        ("chain out of order", shuffled + certs.key_pem(key), 30133),
        ("DER instead of PEM", der.decode(), 30117),
    ]


async def test_bad_certificates_are_refused_with_their_codes(
    api_stack: Stack, shop: Account
) -> None:
    """Each kind of bad certificate upload answers its own Twilio code."""
    domain_sid, name = await new_domain(api_stack, shop)
    client = sdk_client(api_stack, shop.sid, shop.token)
    for case, tls_cert, code in tls_cert_cases(name):
        error = await rest_error(
            client.messaging.v1.domain_certs(domain_sid).update, tls_cert=tls_cert
        )
        assert (error.code, error.status) == (code, 400), case


async def test_bad_config_urls_are_refused(api_stack: Stack, shop: Account) -> None:
    """An invalid CallbackUrl answers 30109; an invalid FallbackUrl 30122."""
    domain_sid, _ = await new_domain(api_stack, shop)
    client = sdk_client(api_stack, shop.sid, shop.token)
    config = client.messaging.v1.domain_config(domain_sid)
    error = await rest_error(config.update, callback_url="ftp://example.com/x")
    assert_twilio_error(error, 30109, 400)
    error = await rest_error(config.update, fallback_url="not a url")
    assert_twilio_error(error, 30122, 400)


async def test_a_service_belongs_to_one_domain(api_stack: Stack, shop: Account) -> None:
    """Associating a service already on another domain answers 30130."""
    first, _ = await new_domain(api_stack, shop)
    second, _ = await new_domain(api_stack, shop)
    client = sdk_client(api_stack, shop.sid, shop.token)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create, friendly_name="Links"
    )
    await asyncio.to_thread(
        client.messaging.v1.linkshortening_messaging_service(first, service.sid).create
    )
    error = await rest_error(
        client.messaging.v1.linkshortening_messaging_service(second, service.sid).create
    )
    assert_twilio_error(error, 30130, 400)


async def test_shortening_needs_a_certificate(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    """ShortenUrls through a verified domain without a certificate answers 30107."""
    domain = await register_domain(
        api_stack, shop, f"ls{secrets.token_hex(4)}.owlshoes.test"
    )
    await verify_domain(api_stack, shop, dns_zone, domain)
    service_sid = await service_on_domain(api_stack, shop, domain["sid"], "No cert")
    client = sdk_client(api_stack, shop.sid, shop.token)
    error = await rest_error(
        client.messages.create,
        to="+15558675310",
        messaging_service_sid=service_sid,
        body="https://example.com/",
        shorten_urls=True,
    )
    assert_twilio_error(error, 30107, 400)
