"""Per-domain TLS contexts: built from sealed keys, chosen by SNI, swapped live."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from services.redirector import tls
from services.redirector.tls import (
    CertificateError,
    CertificateStore,
    build_domain_context,
)

from .handshakes import chain_pem, domain_context, handshake, leaf_der, pkcs8_der

DOMAIN = "ls.owlshoes.test"


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def test_store_presents_the_certificate_named_by_sni(ca: trustme.CA) -> None:
    """The handshake gets the domain's chain, whatever the case of the SNI name."""
    cert = ca.issue_cert(DOMAIN)
    store = CertificateStore()
    store.install(DOMAIN, domain_context(cert))

    peer, server = handshake(store.server_context, ca, DOMAIN.upper())

    assert peer == leaf_der(cert)
    assert store.domain_of(server.context) == DOMAIN


def test_unknown_sni_name_fails_the_handshake(ca: trustme.CA) -> None:
    """A name without a certificate ends the handshake with an alert."""
    store = CertificateStore()
    store.install(DOMAIN, domain_context(ca.issue_cert(DOMAIN)))

    with pytest.raises(ssl.SSLError, match=r"CALLBACK_FAILED|UNRECOGNIZED_NAME"):
        handshake(store.server_context, ca, "other.owlshoes.test")


def test_replacing_a_context_keeps_connections_on_the_old_one(
    ca: trustme.CA,
) -> None:
    """New handshakes see the new certificate; existing ones keep their context."""
    first, second = ca.issue_cert(DOMAIN), ca.issue_cert(DOMAIN)
    store = CertificateStore()
    store.install(DOMAIN, domain_context(first))
    _, earlier = handshake(store.server_context, ca, DOMAIN)

    store.install(DOMAIN, domain_context(second))
    peer, _ = handshake(store.server_context, ca, DOMAIN)

    assert peer == leaf_der(second)
    assert store.domain_of(earlier.context) == DOMAIN


def test_removed_domain_is_no_longer_served(ca: trustme.CA) -> None:
    """After removal, handshakes for the domain fail."""
    store = CertificateStore()
    store.install(DOMAIN, domain_context(ca.issue_cert(DOMAIN)))

    assert store.remove(DOMAIN)

    assert len(store) == 0
    with pytest.raises(ssl.SSLError):
        handshake(store.server_context, ca, DOMAIN)


def test_key_files_are_deleted_after_loading(
    ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Building a context leaves nothing behind in the temporary directory."""
    monkeypatch.setattr(tls, "_MEMORY_TMP_ROOT", tmp_path)

    domain_context(ca.issue_cert(DOMAIN))

    assert list(tmp_path.iterdir()) == []


def test_key_not_matching_the_certificate_is_refused(ca: trustme.CA) -> None:
    """A chain and a key that do not belong together raise CertificateError."""
    cert, other = ca.issue_cert(DOMAIN), ca.issue_cert(DOMAIN)

    with pytest.raises(CertificateError):
        build_domain_context(chain_pem(cert), pkcs8_der(other))


def test_unreadable_key_is_refused(ca: trustme.CA) -> None:
    """Bytes that are no PKCS#8 key raise CertificateError."""
    with pytest.raises(CertificateError):
        build_domain_context(chain_pem(ca.issue_cert(DOMAIN)), b"not a key")
