"""The SDK's LinkShortening calls, sync and async, from a new domain to a service
that shortens links on it."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

from twilio.rest import Client

from tests.support import certs
from tests.support.async_sdk import async_rest_error, async_sdk_client
from tests.support.dns import DnsZone
from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import (
    Account,
    publish_records,
    register_domain,
    sdk_client,
)
from tests.support.stack import Stack


def tls_cert(domain: str) -> str:
    key, issuer = certs.new_key(), certs.new_key()
    leaf = certs.issue(
        domain, key, issuer_key=issuer, not_after=datetime.now(UTC) + timedelta(60)
    )
    return certs.cert_pem(leaf) + certs.key_pem(key)


async def new_service(client: Client, account: Account) -> str:
    service = await asyncio.to_thread(
        client.messaging.v1.services.create, friendly_name="Drops"
    )
    await asyncio.to_thread(
        client.messaging.v1.services(service.sid).phone_numbers.create,
        phone_number_sid=account.number_sid,
    )
    sid: str = service.sid
    return sid


async def test_the_sync_sdk_sets_up_a_domain_end_to_end(
    api_stack: Stack, shop: Account, dns_zone: DnsZone
) -> None:
    name = f"ls{secrets.token_hex(4)}.owlshoes.test"
    domain = await register_domain(api_stack, shop, name)
    dn = domain["sid"]
    client = sdk_client(api_stack, shop.sid, shop.token)
    v1 = client.messaging.v1

    publish_records(dns_zone, domain)
    validation = await asyncio.to_thread(v1.domain_validate_dns(dn).fetch)
    assert (validation.is_valid, validation.reason) == (True, "")

    cert = await asyncio.to_thread(v1.domain_certs(dn).update, tls_cert=tls_cert(name))
    assert (cert.domain_sid, cert.domain_name) == (dn, name)
    fetched = await asyncio.to_thread(v1.domain_certs(dn).fetch)
    assert fetched.certificate_sid == cert.certificate_sid

    config = await asyncio.to_thread(
        v1.domain_config(dn).update,
        fallback_url="https://www.owlshoes.test/",
        callback_url="https://hooks.owlshoes.test/clicks",
        continue_on_failure=False,
        disable_https=False,
    )
    assert config.config_sid.startswith("ZK")
    again = await asyncio.to_thread(v1.domain_config(dn).fetch)
    assert again.fallback_url == "https://www.owlshoes.test/"

    mg = await new_service(client, shop)
    association = await asyncio.to_thread(
        v1.linkshortening_messaging_service(dn, mg).create
    )
    assert (association.domain_sid, association.messaging_service_sid) == (dn, mg)
    service_config = await asyncio.to_thread(
        v1.domain_config_messaging_service(mg).fetch
    )
    assert (service_config.domain_sid, service_config.config_sid) == (
        dn,
        config.config_sid,
    )
    assert service_config.callback_url == "https://hooks.owlshoes.test/clicks"
    owner = await asyncio.to_thread(
        v1.linkshortening_messaging_service_domain_association(mg).fetch
    )
    assert owner.domain_sid == dn

    sent = await asyncio.to_thread(
        client.messages.create,
        to="+15558675310",
        messaging_service_sid=mg,
        body="New drops: https://www.owlshoes.test/drops?cat=1",
        shorten_urls=True,
    )
    assert sent.status == "accepted"

    assert await asyncio.to_thread(v1.linkshortening_messaging_service(dn, mg).delete)
    error = await rest_error(v1.domain_config_messaging_service(mg).fetch)
    assert_twilio_error(error, 20404, 404)
    assert await asyncio.to_thread(v1.domain_certs(dn).delete)
    error = await rest_error(v1.domain_certs(dn).fetch)
    assert_twilio_error(error, 20404, 404)


async def test_the_async_sdk_reaches_every_link_shortening_call(
    api_stack: Stack, shop: Account, rival: Account, dns_zone: DnsZone
) -> None:
    name = f"ls{secrets.token_hex(4)}.owlshoes.test"
    domain = await register_domain(api_stack, shop, name)
    dn = domain["sid"]
    mg = await new_service(sdk_client(api_stack, shop.sid, shop.token), shop)
    async with async_sdk_client(api_stack, shop.sid, shop.token) as client:
        v1 = client.messaging.v1
        unproved = await v1.domain_validate_dns(dn).fetch_async()
        assert unproved.is_valid is False
        assert f"_pigeon.{name}" in unproved.reason
        publish_records(dns_zone, domain)
        assert (await v1.domain_validate_dns(dn).fetch_async()).is_valid is True
        cert = await v1.domain_certs(dn).update_async(tls_cert=tls_cert(name))
        assert (await v1.domain_certs(dn).fetch_async()).certificate_sid == (
            cert.certificate_sid
        )
        await v1.domain_config(dn).update_async(disable_https=True)
        assert (await v1.domain_config(dn).fetch_async()).disable_https is True
        await v1.linkshortening_messaging_service(dn, mg).create_async()
        fetched = await v1.domain_config_messaging_service(mg).fetch_async()
        assert fetched.domain_sid == dn
        association = v1.linkshortening_messaging_service_domain_association(mg)
        assert (await association.fetch_async()).domain_sid == dn
        shortened = await client.messages.create_async(
            to="+15558675310",
            messaging_service_sid=mg,
            body="New drops: https://www.owlshoes.test/drops?cat=2",
            shorten_urls=True,
        )
        assert shortened.status == "accepted"
        assert await v1.linkshortening_messaging_service(dn, mg).delete_async()
        assert await v1.domain_certs(dn).delete_async()
    async with async_sdk_client(api_stack, rival.sid, rival.token) as other:
        for call in (
            other.messaging.v1.domain_validate_dns(dn).fetch_async(),
            other.messaging.v1.domain_config(dn).fetch_async(),
            other.messaging.v1.domain_certs(dn).fetch_async(),
        ):
            error = await async_rest_error(call)
            assert_twilio_error(error, 20404, 404)
