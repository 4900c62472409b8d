"""A domain that loses its verification between accept and send.

The message was accepted while the domain was proved; by ``SendAt`` it is
not, so its links cannot be served.  The dispatcher then fails the message
with 30103 and hands nothing to the carrier, or, with ``ContinueOnFailure``,
sends it with its original links.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import trustme
from twilio.rest import Client

from tests.support.dns import DnsZone
from tests.support.polling import eventually
from tests.support.receiver import Receiver
from tests.support.shop import (
    open_account,
    register_domain,
    sdk_client,
    service_on_domain,
    verify_domain,
)
from tests.support.stack import Stack

LONG_URL = "https://www.owlshoes.test/drops?cat=150463332457&source=usa"
SEND_AFTER = timedelta(seconds=5)


async def schedule(client: Client, service_sid: str) -> Any:
    return await asyncio.to_thread(
        client.messages.create,
        to="+15558675310",
        messaging_service_sid=service_sid,
        body=f"New drops: {LONG_URL}",
        shorten_urls=True,
        schedule_type="fixed",
        send_at=(datetime.now(UTC) + SEND_AFTER).replace(microsecond=0),
    )


async def settled(client: Client, sid: str) -> Any:
    return await eventually(
        lambda: asyncio.to_thread(client.messages(sid).fetch),
        lambda fetched: fetched.status in ("sent", "failed"),
        timeout_s=30,
    )


def handed_over(receiver: Receiver) -> dict[str, dict[str, Any]]:
    """What the carrier received, by message SID."""
    bodies = (orjson.loads(r.body) for r in receiver.on("/carrier"))
    return {body["sid"]: body for body in bodies}


async def test_a_domain_lapsing_before_send_at_fails_or_sends_long_links(
    stack: Stack, receiver: Receiver, dns_zone: DnsZone
) -> None:
    account = await open_account(stack, "Lapsed Shoes", "+17145550203")
    name = f"ls{secrets.token_hex(3)}.owlshoes.test"
    domain = await register_domain(stack, account, name)
    await verify_domain(stack, account, dns_zone, domain)
    client = sdk_client(stack, account.sid, account.token)
    issued = trustme.CA().issue_cert(name)
    blobs = [*issued.cert_chain_pems, issued.private_key_pem]
    await asyncio.to_thread(
        client.messaging.v1.domain_certs(domain["sid"]).update,
        tls_cert=b"".join(blob.bytes() for blob in blobs).decode(),
    )
    service_sid = await service_on_domain(stack, account, domain["sid"])

    refused = await schedule(client, service_sid)
    dns_zone.withdraw(f"_pigeon.{name}")
    lapsed = await asyncio.to_thread(
        client.messaging.v1.domain_validate_dns(domain["sid"]).fetch
    )
    assert lapsed.is_valid is False

    failed = await settled(client, refused.sid)
    assert (failed.status, failed.error_code) == ("failed", 30103)
    assert refused.sid not in handed_over(receiver)

    await asyncio.to_thread(
        client.messaging.v1.domain_config(domain["sid"]).update,
        continue_on_failure=True,
    )
    allowed = await schedule(client, service_sid)
    sent = await settled(client, allowed.sid)
    assert sent.status == "sent"
    outgoing = handed_over(receiver)[allowed.sid]
    assert LONG_URL in outgoing["body"]
    assert name not in outgoing["body"]
