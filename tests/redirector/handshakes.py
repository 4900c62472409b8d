"""TLS handshakes in memory, and the certificate material they need."""

from __future__ import annotations

import ssl

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from services.redirector.tls import build_domain_context

MAX_ROUND_TRIPS = 10


def chain_pem(cert: trustme.LeafCert) -> str:
    return b"".join(blob.bytes() for blob in cert.cert_chain_pems).decode()


def pkcs8_der(cert: trustme.LeafCert) -> bytes:
    key = serialization.load_pem_private_key(cert.private_key_pem.bytes(), None)
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def leaf_der(cert: trustme.LeafCert) -> bytes:
    leaf = x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes())
    return leaf.public_bytes(serialization.Encoding.DER)


def domain_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    return build_domain_context(chain_pem(cert), pkcs8_der(cert))


def handshake(
    server_context: ssl.SSLContext, ca: trustme.CA, server_name: str
) -> tuple[bytes, ssl.SSLObject]:
    """Run a handshake in memory; return the peer leaf (DER) and the server side."""
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(to_client, to_server, server_hostname=server_name)
    server = server_context.wrap_bio(to_server, to_client, server_side=True)
    for _ in range(MAX_ROUND_TRIPS):
        if all([_advance(client), _advance(server)]):
            break
    peer = client.getpeercert(binary_form=True)
    assert peer is not None, "handshake did not complete"
    return peer, server


def _advance(side: ssl.SSLObject) -> bool:
    try:
        side.do_handshake()
    except ssl.SSLWantReadError:
        return False
    return True
