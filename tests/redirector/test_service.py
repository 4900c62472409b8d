"""The redirector as its own process, on the real database and Kafka."""

from __future__ import annotations

import asyncio
import secrets
import ssl
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
import asyncpg
import pytest
import trustme
from multidict import CIMultiDictProxy
from prometheus_client.parser import text_string_to_metric_families

from libs.common.crypto import KeyRing
from libs.common.events import CertificateChanged
from libs.common.kafka import EventProducer
from libs.common.settings import CommonSettings
from tests.support.polling import until

from . import records
from .conftest import (
    DOMAIN,
    FALLBACK_URL,
    PLAIN_DOMAIN,
    ClickLog,
    Links,
    Redirector,
    Shop,
)
from .handshakes import leaf_der

LONG_URL = (
    "https://www.owlshoesinc.com/newdrops/blackfriday"
    "?cat=150463332457&source=usa&h=bf&uid=aDwEv34fFsa3"
)
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 15_6 like Mac OS X) Mobile/15E148"
# The server ends a refused handshake with an alert or by closing the connection.
HANDSHAKE_REFUSED = (ssl.SSLError, ConnectionError)
LINK_HIT = {"cache": "link", "result": "hit"}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: str


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def request(
    url: str,
    *,
    host: str,
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
    method: str = "GET",
    user_agent: str = PHONE_UA,
) -> Reply:
    """One request on a fresh connection, without following redirects."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            url,
            ssl=ssl_context if ssl_context is not None else False,
            server_hostname=server_hostname,
            headers={"Host": host, "User-Agent": user_agent},
            allow_redirects=False,
        ) as reply,
    ):
        return Reply(reply.status, reply.headers, await reply.text())


async def open_link(
    redirector: Redirector,
    ca: trustme.CA,
    code: str,
    *,
    domain: str = DOMAIN,
    method: str = "GET",
    user_agent: str = PHONE_UA,
) -> Reply:
    """What a phone does: HTTPS to the redirector, SNI and Host naming the domain."""
    return await request(
        f"https://127.0.0.1:{redirector.https_port}/{code}",
        host=domain,
        ssl_context=client_context(ca),
        server_hostname=domain,
        method=method,
        user_agent=user_agent,
    )


async def peer_leaf(redirector: Redirector, ca: trustme.CA, server_name: str) -> bytes:
    """The DER leaf certificate the redirector presents for ``server_name``."""
    _, writer = await asyncio.open_connection(
        "127.0.0.1",
        redirector.https_port,
        ssl=client_context(ca),
        server_hostname=server_name,
    )
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
    assert isinstance(der, bytes)
    return der


async def announce(
    settings: CommonSettings, domain_sid: str, name: str, action: str
) -> None:
    """Publish the certificate change as the API's outbox relay would."""
    producer = EventProducer(settings)
    await producer.start()
    try:
        await producer.publish(
            CertificateChanged(domain_sid=domain_sid, domain_name=name, action=action)
        )
    finally:
        await producer.stop()


async def test_link_redirects_to_its_exact_url_and_reports_the_click(
    redirector: Redirector,
    ca: trustme.CA,
    links: Links,
    shop: Shop,
    click_log: ClickLog,
) -> None:
    """A GET over TLS is a 302 to the stored URL and a link.clicked event."""
    code = await links.add(LONG_URL)

    reply = await open_link(redirector, ca, code)

    assert reply.status == 302
    assert reply.headers["Location"] == LONG_URL
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    event = await click_log.wait_for(code)
    assert event.link == LONG_URL
    assert event.shortened_link == f"https://{DOMAIN}/{code}"
    assert (event.domain_sid, event.message_sid) == (shop.domain_sid, shop.message_sid)
    assert event.account_sid == shop.account_sid
    assert (event.to, event.from_) == (records.TO, records.FROM)
    assert event.messaging_service_sid is None
    assert event.user_agent == PHONE_UA
    assert event.link_created_at <= event.clicked_at


async def test_head_redirects_without_counting_a_click(
    redirector: Redirector, ca: trustme.CA, links: Links, click_log: ClickLog
) -> None:
    """HEAD gets the redirect, but only the following GET is a click."""
    code = await links.add(LONG_URL)

    head = await open_link(redirector, ca, code, method="HEAD", user_agent="probe")
    await open_link(redirector, ca, code, user_agent=PHONE_UA)

    assert head.status == 302
    assert head.headers["Location"] == LONG_URL
    assert (await click_log.wait_for(code)).user_agent == PHONE_UA
    assert [event.user_agent for event in click_log.for_code(code)] == [PHONE_UA]


async def test_unknown_code_goes_to_the_domain_fallback(
    redirector: Redirector, ca: trustme.CA
) -> None:
    """A well-formed code nobody issued redirects to the fallback URL."""
    reply = await open_link(redirector, ca, records.new_code())

    assert reply.status == 302
    assert reply.headers["Location"] == FALLBACK_URL


async def test_malformed_code_is_a_plain_404(
    redirector: Redirector, ca: trustme.CA
) -> None:
    """Paths that cannot be codes get a short plain-text 404."""
    reply = await open_link(redirector, ca, "not-a-code")

    assert reply.status == 404
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert reply.body == "Not Found\n"


async def test_expired_link_goes_to_the_fallback_and_counts(
    redirector: Redirector, ca: trustme.CA, links: Links, click_log: ClickLog
) -> None:
    """An expired link redirects to the fallback URL and still reports a click."""
    code = await links.add(LONG_URL, expires_in=-timedelta(minutes=1))

    reply = await open_link(redirector, ca, code)

    assert reply.status == 302
    assert reply.headers["Location"] == FALLBACK_URL
    assert (await click_log.wait_for(code)).link == LONG_URL


async def test_unknown_server_name_is_refused_at_the_handshake(
    redirector: Redirector, ca: trustme.CA
) -> None:
    """SNI naming a domain without certificate gets no certificate at all."""
    with pytest.raises(HANDSHAKE_REFUSED):
        await peer_leaf(redirector, ca, "unknown.owlshoes.test")


async def test_host_other_than_the_sni_name_is_not_served(
    redirector: Redirector, ca: trustme.CA, links: Links
) -> None:
    """A request whose Host names another domain than its SNI is a 404."""
    code = await links.add(LONG_URL)

    reply = await request(
        f"https://127.0.0.1:{redirector.https_port}/{code}",
        host=PLAIN_DOMAIN,
        ssl_context=client_context(ca),
        server_hostname=DOMAIN,
    )

    assert reply.status == 404


async def test_plain_http_serves_domains_that_disabled_https(
    redirector: Redirector, links: Links, shop: Shop, click_log: ClickLog
) -> None:
    """On the HTTP listener an http-only domain redirects, with an http short link."""
    code = await links.add(LONG_URL, domain_sid=shop.plain_domain_sid)

    reply = await request(
        f"http://127.0.0.1:{redirector.http_port}/{code}", host=PLAIN_DOMAIN
    )

    assert reply.status == 302
    assert reply.headers["Location"] == LONG_URL
    event = await click_log.wait_for(code)
    assert event.shortened_link == f"http://{PLAIN_DOMAIN}/{code}"


async def test_plain_http_upgrades_https_domains(
    redirector: Redirector, links: Links
) -> None:
    """On the HTTP listener an HTTPS domain's link is sent to its HTTPS form."""
    code = await links.add(LONG_URL)

    reply = await request(
        f"http://127.0.0.1:{redirector.http_port}/{code}", host=DOMAIN
    )

    assert reply.status == 302
    assert reply.headers["Location"] == f"https://{DOMAIN}/{code}"


async def test_certificates_follow_uploads_replacements_and_deletions(
    redirector: Redirector,
    ca: trustme.CA,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    settings: CommonSettings,
    shop: Shop,
    links: Links,
) -> None:
    """Certificate events change what is served within seconds, without restart."""
    name = f"go{secrets.token_hex(3)}.owlshoes.test"
    domain_sid = await records.insert_domain(pool, shop.account_sid, name)
    code = await links.add(LONG_URL, domain_sid=domain_sid)
    first, second = ca.issue_cert(name), ca.issue_cert(name)

    await records.store_certificate(pool, keyring, domain_sid, first)
    await announce(settings, domain_sid, name, "uploaded")
    await until(lambda: serves(redirector, ca, name, first))
    reply = await open_link(redirector, ca, code, domain=name)
    assert (reply.status, reply.headers["Location"]) == (302, LONG_URL)

    await records.store_certificate(pool, keyring, domain_sid, second)
    await announce(settings, domain_sid, name, "uploaded")
    await until(lambda: serves(redirector, ca, name, second))

    await pool.execute(
        "DELETE FROM domain_certificates WHERE domain_sid = $1", domain_sid
    )
    await announce(settings, domain_sid, name, "deleted")
    await until(lambda: refuses(redirector, ca, name))


async def test_warm_link_is_answered_from_the_cache(
    redirector: Redirector, ca: trustme.CA, links: Links
) -> None:
    """The second open of a link is a cache hit, visible on /metrics."""
    code = await links.add(LONG_URL)
    await open_link(redirector, ca, code)
    before = await metric(redirector, "pigeon_redirector_cache_lookups_total", LINK_HIT)

    reply = await open_link(redirector, ca, code)

    assert reply.headers["Location"] == LONG_URL
    after = await metric(redirector, "pigeon_redirector_cache_lookups_total", LINK_HIT)
    assert after == before + 1
    assert await metric(redirector, "pigeon_redirector_certificates_loaded", {}) >= 1


async def metric(redirector: Redirector, name: str, labels: dict[str, str]) -> float:
    """One sample from the redirector's /metrics."""
    reply = await request(
        f"http://127.0.0.1:{redirector.health_port}/metrics", host="127.0.0.1"
    )
    for family in text_string_to_metric_families(reply.body):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"no sample {name} {labels}")


async def serves(
    redirector: Redirector, ca: trustme.CA, name: str, cert: trustme.LeafCert
) -> bool:
    try:
        return await peer_leaf(redirector, ca, name) == leaf_der(cert)
    except HANDSHAKE_REFUSED:
        return False


async def refuses(redirector: Redirector, ca: trustme.CA, name: str) -> bool:
    try:
        await peer_leaf(redirector, ca, name)
    except HANDSHAKE_REFUSED:
        return True
    return False
