"""Replacing a certificate under load: no handshake fails, the new one takes over."""

from __future__ import annotations

import asyncio
import secrets
import ssl

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.dns import DnsZone
from tests.support.shop import open_account, register_domain, sdk_client, verify_domain
from tests.support.stack import Stack

HANDSHAKE_TIMEOUT_S = 5.0
ROTATION_DEADLINE_S = 30.0
AFTER_SWITCH_HANDSHAKES = 20


def tls_cert(issued: trustme.LeafCert) -> str:
    blobs = [*issued.cert_chain_pems, issued.private_key_pem]
    return b"".join(blob.bytes() for blob in blobs).decode()


def leaf_der(issued: trustme.LeafCert) -> bytes:
    leaf = x509.load_pem_x509_certificate(issued.cert_chain_pems[0].bytes())
    return leaf.public_bytes(serialization.Encoding.DER)


async def presented(port: int, domain: str, context: ssl.SSLContext) -> bytes:
    """One real TLS handshake with SNI; the leaf the redirector presented."""
    _, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=domain),
        HANDSHAKE_TIMEOUT_S,
    )
    ssl_object = writer.get_extra_info("ssl_object")
    peer: bytes = ssl_object.getpeercert(binary_form=True)
    writer.close()
    await writer.wait_closed()
    return peer


async def wait_until_served(
    port: int, domain: str, context: ssl.SSLContext, leaf: bytes
) -> None:
    """Handshake until ``leaf`` is presented (failures allowed meanwhile)."""
    deadline = asyncio.get_running_loop().time() + ROTATION_DEADLINE_S
    while asyncio.get_running_loop().time() < deadline:
        try:
            if await presented(port, domain, context) == leaf:
                return
        except (OSError, ssl.SSLError, TimeoutError):
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("certificate never served")


async def test_rotation_under_load_keeps_every_handshake(
    stack: Stack, dns_zone: DnsZone
) -> None:
    """Handshakes run throughout a replacement; all succeed and switch for good."""
    ca = trustme.CA()
    domain = f"ls{secrets.token_hex(3)}.owlshoes.test"
    account = await open_account(stack, "Rotating Shoes", "+17145550201")
    registered = await register_domain(stack, account, domain)
    await verify_domain(stack, account, dns_zone, registered)
    domain_sid = registered["sid"]
    certificate = sdk_client(
        stack, account.sid, account.token
    ).messaging.v1.domain_certs(domain_sid)
    old, new = ca.issue_cert(domain), ca.issue_cert(domain)
    context = ssl.create_default_context()
    ca.configure_trust(context)

    await asyncio.to_thread(certificate.update, tls_cert=tls_cert(old))
    await wait_until_served(stack.https_port, domain, context, leaf_der(old))

    seen: list[bytes | BaseException] = []
    load = asyncio.create_task(
        _handshakes_until_new(stack.https_port, domain, context, leaf_der(new), seen)
    )
    await asyncio.sleep(0.5)
    await asyncio.to_thread(certificate.update, tls_cert=tls_cert(new))
    await asyncio.wait_for(load, ROTATION_DEADLINE_S)

    assert [o for o in seen if isinstance(o, BaseException)] == []
    switched = seen.index(leaf_der(new))
    assert switched > 0, "the load must have started on the old certificate"
    assert set(seen[:switched]) == {leaf_der(old)}
    assert set(seen[switched:]) == {leaf_der(new)}


async def _handshakes_until_new(
    port: int,
    domain: str,
    context: ssl.SSLContext,
    new: bytes,
    seen: list[bytes | BaseException],
) -> None:
    while new not in seen:
        try:
            seen.append(await presented(port, domain, context))
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            seen.append(exc)
    for _ in range(AFTER_SWITCH_HANDSHAKES):
        try:
            seen.append(await presented(port, domain, context))
        except (OSError, ssl.SSLError, TimeoutError) as exc:
            seen.append(exc)


async def wait_until_refused(port: int, domain: str, context: ssl.SSLContext) -> None:
    """Handshake until the redirector no longer completes one for ``domain``."""
    deadline = asyncio.get_running_loop().time() + ROTATION_DEADLINE_S
    while asyncio.get_running_loop().time() < deadline:
        try:
            await presented(port, domain, context)
        except (OSError, ssl.SSLError, TimeoutError):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("domain still served")


async def test_losing_verification_stops_the_domain_being_served(
    stack: Stack, dns_zone: DnsZone
) -> None:
    """A domain whose TXT record is gone is dropped by the redirector, and
    served again, with its certificate, once it is proved anew."""
    ca = trustme.CA()
    domain = f"ls{secrets.token_hex(3)}.owlshoes.test"
    account = await open_account(stack, "Lapsing Shoes", "+17145550202")
    registered = await register_domain(stack, account, domain)
    await verify_domain(stack, account, dns_zone, registered)
    client = sdk_client(stack, account.sid, account.token)
    issued = ca.issue_cert(domain)
    await asyncio.to_thread(
        client.messaging.v1.domain_certs(registered["sid"]).update,
        tls_cert=tls_cert(issued),
    )
    context = ssl.create_default_context()
    ca.configure_trust(context)
    await wait_until_served(stack.https_port, domain, context, leaf_der(issued))

    dns_zone.withdraw(f"_pigeon.{domain}")
    validation = await asyncio.to_thread(
        client.messaging.v1.domain_validate_dns(registered["sid"]).fetch
    )
    assert validation.is_valid is False
    await wait_until_refused(stack.https_port, domain, context)

    await verify_domain(stack, account, dns_zone, registered)
    await wait_until_served(stack.https_port, domain, context, leaf_der(issued))
