"""The Black Friday campaign, end to end, across the four services.

An operator opens an account; the shop sets up a messaging service and a
branded domain with its certificate; it schedules a message with a long link
through the official Twilio SDK; the message leaves at ``SendAt`` with a short
link; a phone opens the link over TLS; the click reaches the shop's webhook.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import aiohttp
import orjson
import trustme
from twilio.request_validator import RequestValidator

from tests.support.dns import DnsZone
from tests.support.polling import eventually
from tests.support.receiver import Receiver
from tests.support.shop import (
    Account,
    open_account,
    register_domain,
    sdk_client,
    verify_domain,
)
from tests.support.stack import Stack

DOMAIN = "ls.owlshoes.test"
LONG_URL = (
    "https://www.owlshoesinc.com/newdrops/blackfriday"
    "?cat=150463332457&source=usa&h=bf&uid=aDwEv34fFsa3"
)
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 15_6 like Mac OS X) Mobile/15E148"
SEND_AFTER = timedelta(seconds=4)
SHORT_LINK = re.compile(r"https://ls\.owlshoes\.test/([0-9A-Za-z]{10})")


async def set_up_shop(
    stack: Stack, receiver: Receiver, ca: trustme.CA, dns_zone: DnsZone
) -> tuple[Account, str, str]:
    """Steps 1 and 2: account, service, domain proved over DNS, certificate,
    config, association."""
    account = await open_account(stack, "Owl Shoes", "+17145550100")
    assert re.fullmatch(r"AC[0-9a-f]{32}", account.sid)
    client = sdk_client(stack, account.sid, account.token)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create,
        friendly_name="Black Friday",
        status_callback=receiver.url("/status"),
    )
    await asyncio.to_thread(
        client.messaging.v1.services(service.sid).phone_numbers.create,
        phone_number_sid=account.number_sid,
    )
    domain = await register_domain(stack, account, DOMAIN)
    await verify_domain(stack, account, dns_zone, domain)
    domain_sid = domain["sid"]
    certificate = ca.issue_cert(DOMAIN)
    tls_cert = b"".join(
        [
            *(blob.bytes() for blob in certificate.cert_chain_pems),
            certificate.private_key_pem.bytes(),
        ]
    ).decode()
    uploaded = await asyncio.to_thread(
        client.messaging.v1.domain_certs(domain_sid).update, tls_cert=tls_cert
    )
    assert uploaded.domain_name == DOMAIN
    assert uploaded.certificate_sid.startswith("CW")
    config = await asyncio.to_thread(
        client.messaging.v1.domain_config(domain_sid).update,
        fallback_url="https://whoops.owlshoes.test/",
        callback_url=receiver.url("/clicks"),
    )
    assert config.callback_url == receiver.url("/clicks")
    await asyncio.to_thread(
        client.messaging.v1.linkshortening_messaging_service(
            domain_sid, service.sid
        ).create
    )
    return account, service.sid, domain_sid


async def open_link(stack: Stack, ca: trustme.CA, code: str) -> aiohttp.ClientResponse:
    """Step 5: what a phone does, over TLS with SNI naming the shop's domain."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"https://127.0.0.1:{stack.https_port}/{code}",
            ssl=context,
            server_hostname=DOMAIN,
            headers={"Host": DOMAIN, "User-Agent": PHONE_UA},
            allow_redirects=False,
        ) as reply,
    ):
        await reply.read()
        return reply


async def test_scheduled_campaign_travels_through_every_service(
    stack: Stack, receiver: Receiver, dns_zone: DnsZone
) -> None:
    """A scheduled, shortened message leaves at SendAt and reports its click."""
    ca = trustme.CA()
    account, service_sid, domain_sid = await set_up_shop(stack, receiver, ca, dns_zone)
    client = sdk_client(stack, account.sid, account.token)

    send_at = (datetime.now(UTC) + SEND_AFTER).replace(microsecond=0)
    message = await asyncio.to_thread(
        client.messages.create,
        to="+15558675310",
        messaging_service_sid=service_sid,
        body=f"Check out the latest drop in footwear! {LONG_URL}",
        shorten_urls=True,
        schedule_type="fixed",
        send_at=send_at,
    )
    assert message.status == "scheduled"
    assert message.date_sent is None

    carrier = await receiver.wait_for("/carrier")
    assert len(carrier) == 1
    assert carrier[0].at >= send_at.timestamp(), "sent before SendAt"
    outgoing = orjson.loads(carrier[0].body)
    assert outgoing["sid"] == message.sid
    assert outgoing["from"] == account.number
    assert outgoing["to"] == "+15558675310"
    assert LONG_URL not in outgoing["body"]
    codes = SHORT_LINK.findall(outgoing["body"])
    assert len(codes) == 1

    sent = await eventually(
        lambda: asyncio.to_thread(client.messages(message.sid).fetch),
        lambda fetched: fetched.status != "sending",
    )
    assert sent.status == "sent"
    assert sent.date_sent is not None

    reply = await open_link(stack, ca, codes[0])
    assert reply.status == 302
    assert reply.headers["Location"] == LONG_URL

    clicks = await receiver.wait_for("/clicks")
    click = clicks[0]
    event = orjson.loads(click.body)
    assert event["event_type"] == "click"
    assert event["sms_sid"] == message.sid
    assert event["messaging_service_sid"] == service_sid
    assert event["account_sid"] == account.sid
    assert event["link"] == LONG_URL
    assert event["from"] == account.number
    assert event["to"] == "+15558675310"
    assert event["user_agent"] == PHONE_UA
    assert isinstance(event["clicked_at"], int)
    assert event["clicked_at"] >= int(send_at.timestamp() * 1000)
    validator = RequestValidator(account.token)
    assert validator.validate(
        click.url, click.body.decode(), click.headers["X-Twilio-Signature"]
    )

    statuses = await receiver.wait_for("/status")
    form = parse_qs(statuses[0].body.decode())
    assert form["MessageSid"] == [message.sid]
    assert form["MessageStatus"] == ["sent"]
    assert domain_sid.startswith("DN")
