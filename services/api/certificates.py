"""TLS certificates uploaded for a domain: parsed, checked, sealed and stored.

``TlsCert`` holds the chain (leaf first) and the private key in one PEM text.
The private key is stored as PKCS#8 DER sealed under the master key, bound to
the certificate's SID; the redirector is told over Kafka when it changes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from libs.common import sids
from libs.common.certificate_expiry import EXPIRING_SOON, expiry_status
from libs.common.crypto import KeyRing
from libs.common.db import transaction, translate_db_errors
from libs.common.errors import ApiError, NotFoundError
from libs.common.events import CertificateChanged
from libs.common.outbox import enqueue

from .domains import fetch_domain
from .render import iso8601

CERT_OR_KEY_MISSING = 30116
CERT_UNPARSABLE = 30117
KEY_INVALID = 30118
KEY_MISMATCH = 30119
SELF_SIGNED = 30129
CERT_REFUSED = 30133

MIN_RSA_BITS = 2048

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.DOTALL)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class CheckedCertificate:
    chain_pem: str
    key_der: bytes
    not_before: datetime
    not_after: datetime


def check_certificate(
    tls_cert: str, domain_name: str, *, allow_self_signed: bool, now: datetime
) -> CheckedCertificate:
    """Parse ``TlsCert`` and refuse it, with Twilio's code, unless it is usable."""
    blocks = _pem_blocks(tls_cert)
    chain = _certificates(blocks, tls_cert)
    key = _private_key(blocks)
    leaf = chain[0]
    _check_key_strength(key)
    # Order first: a chain that starts with its intermediate is out of order,
    # which says more than that the key does not match its first certificate.
    _check_chain_order(chain)
    _check_key_matches(leaf, key)
    _check_validity(leaf, now)
    _check_covers(leaf, domain_name)
    if not allow_self_signed and _is_self_signed(leaf):
        raise ApiError(SELF_SIGNED, "The certificate is self-signed.")
    return CheckedCertificate(
        chain_pem="".join(
            c.public_bytes(serialization.Encoding.PEM).decode() for c in chain
        ),
        key_der=key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
    )


def _pem_blocks(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(text)]


def _certificates(
    blocks: list[tuple[str, str]], tls_cert: str
) -> list[x509.Certificate]:
    pems = [pem for label, pem in blocks if label == "CERTIFICATE"]
    if not pems and _looks_like_der(tls_cert):
        raise ApiError(
            CERT_UNPARSABLE, "The certificate is DER; upload it PEM-encoded."
        )
    if not pems:
        raise ApiError(CERT_OR_KEY_MISSING, "TlsCert contains no PEM certificate.")
    try:
        return [x509.load_pem_x509_certificate(pem.encode()) for pem in pems]
    except ValueError:
        raise ApiError(
            CERT_UNPARSABLE, "The certificate could not be parsed."
        ) from None


def _looks_like_der(text: str) -> bool:
    """Raw DER bytes, or DER in base64 without the PEM armour."""
    candidates = [text.encode("latin-1", errors="ignore")]
    with contextlib.suppress(binascii.Error, ValueError):
        candidates.append(base64.b64decode("".join(text.split()), validate=True))
    for candidate in candidates:
        with contextlib.suppress(ValueError):
            x509.load_der_x509_certificate(candidate)
            return True
    return False


def _private_key(blocks: list[tuple[str, str]]) -> PrivateKey:
    pems = [pem for label, pem in blocks if label.endswith("PRIVATE KEY")]
    if not pems:
        raise ApiError(CERT_OR_KEY_MISSING, "TlsCert contains no PEM private key.")
    try:
        key = serialization.load_pem_private_key(pems[0].encode(), password=None)
    except TypeError:
        raise ApiError(
            KEY_INVALID, "The private key is encrypted; upload it unencrypted."
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise ApiError(KEY_INVALID, "The private key could not be parsed.") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ApiError(KEY_INVALID, "The private key must be RSA or ECDSA.")
    return key


def _check_key_strength(key: PrivateKey) -> None:
    """RSA of at least 2048 bits, or ECDSA on P-256 or P-384."""
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        raise ApiError(
            KEY_INVALID,
            f"The RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are needed.",
        )
    if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(
        key.curve, ec.SECP256R1 | ec.SECP384R1
    ):
        raise ApiError(
            KEY_INVALID, f"The ECDSA curve {key.curve.name} is not P-256 or P-384."
        )


def _check_chain_order(chain: list[x509.Certificate]) -> None:
    """Each certificate must be issued by the one after it, leaf first."""
    for position, (child, parent) in enumerate(itertools.pairwise(chain), start=1):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature):
            raise ApiError(
                CERT_REFUSED,
                f"The chain is out of order: certificate {position} is not issued"
                f" by certificate {position + 1}; put the leaf first, then each"
                " issuer.",
            ) from None


def _check_key_matches(leaf: x509.Certificate, key: PrivateKey) -> None:
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.DER
    if leaf.public_key().public_bytes(
        encoding, public
    ) != key.public_key().public_bytes(encoding, public):
        raise ApiError(KEY_MISMATCH, "The private key does not match the certificate.")


def _check_validity(leaf: x509.Certificate, now: datetime) -> None:
    if now < leaf.not_valid_before_utc:
        raise ApiError(CERT_REFUSED, "The certificate is not valid yet.")
    if now >= leaf.not_valid_after_utc:
        raise ApiError(CERT_REFUSED, "The certificate has expired.")


def covered_names(leaf: x509.Certificate) -> list[str]:
    """DNS names in the SAN extension, or the subject CN when there is none."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        common_names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return [str(attribute.value) for attribute in common_names]
    return [name.lower() for name in san.value.get_values_for_type(x509.DNSName)]


def name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 matching: exact, or a left-most ``*`` label covering one label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if not pattern.startswith("*."):
        return pattern == host
    first, _, rest = host.partition(".")
    return bool(first) and rest == pattern[2:]


def _check_covers(leaf: x509.Certificate, domain_name: str) -> None:
    if not any(name_matches(name, domain_name) for name in covered_names(leaf)):
        raise ApiError(CERT_REFUSED, f"The certificate does not cover {domain_name}.")


def _is_self_signed(leaf: x509.Certificate) -> bool:
    if leaf.issuer != leaf.subject:
        return False
    try:
        leaf.verify_directly_issued_by(leaf)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


async def store_certificate(
    pool: asyncpg.Pool,
    keyring: KeyRing,
    account_sid: str,
    domain_sid: str,
    tls_cert: str,
    *,
    allow_self_signed: bool,
) -> dict[str, Any]:
    """Check, seal and store the domain's certificate; announce the change."""
    domain = await fetch_domain(pool, account_sid, domain_sid)
    checked = check_certificate(
        tls_cert,
        domain["domain_name"],
        allow_self_signed=allow_self_signed,
        now=datetime.now(UTC),
    )
    certificate_sid = sids.new_sid(sids.CERTIFICATE)
    sealed = keyring.seal(checked.key_der, context=certificate_sid)
    async with transaction(pool) as conn:
        row = await conn.fetchrow(
            "INSERT INTO domain_certificates (sid, domain_sid, certificate_pem,"
            " private_key_sealed, private_key_key_id, not_before, not_after)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (domain_sid) DO UPDATE SET sid = excluded.sid,"
            " certificate_pem = excluded.certificate_pem,"
            " private_key_sealed = excluded.private_key_sealed,"
            " private_key_key_id = excluded.private_key_key_id,"
            " not_before = excluded.not_before, not_after = excluded.not_after,"
            " date_updated = now() RETURNING *",
            certificate_sid,
            domain_sid,
            checked.chain_pem,
            sealed.blob,
            sealed.key_id,
            checked.not_before,
            checked.not_after,
        )
        await enqueue(
            conn,
            CertificateChanged(
                domain_sid=domain_sid,
                domain_name=domain["domain_name"],
                action="uploaded",
            ),
        )
    assert row is not None
    return _with_domain(row, domain["domain_name"])


async def fetch_certificate(
    pool: asyncpg.Pool, account_sid: str, domain_sid: str
) -> dict[str, Any]:
    domain = await fetch_domain(pool, account_sid, domain_sid)
    with translate_db_errors():
        row = await pool.fetchrow(
            "SELECT * FROM domain_certificates WHERE domain_sid = $1", domain_sid
        )
    if row is None:
        raise NotFoundError(f"/v1/LinkShortening/Domains/{domain_sid}/Certificate")
    return _with_domain(row, domain["domain_name"])


async def delete_certificate(
    pool: asyncpg.Pool, account_sid: str, domain_sid: str
) -> None:
    domain = await fetch_domain(pool, account_sid, domain_sid)
    async with transaction(pool) as conn:
        deleted = await conn.execute(
            "DELETE FROM domain_certificates WHERE domain_sid = $1", domain_sid
        )
        if deleted == "DELETE 0":
            raise NotFoundError(f"/v1/LinkShortening/Domains/{domain_sid}/Certificate")
        await enqueue(
            conn,
            CertificateChanged(
                domain_sid=domain_sid,
                domain_name=domain["domain_name"],
                action="deleted",
            ),
        )


def _with_domain(row: asyncpg.Record, domain_name: str) -> dict[str, Any]:
    return {**dict(row), "domain_name": domain_name}


def render_certificate(
    cert: dict[str, Any], base_url: str, warning_window: timedelta
) -> dict[str, Any]:
    """The v1 DomainCert resource, with Pigeon's expiry fields."""
    status = expiry_status(cert["not_after"], datetime.now(UTC), warning_window)
    return {
        "expiry_status": status,
        "warnings": (
            [{"code": EXPIRING_SOON, "message": "The certificate will expire soon."}]
            if status == "expiring"
            else []
        ),
        "certificate_sid": cert["sid"],
        "domain_sid": cert["domain_sid"],
        "domain_name": cert["domain_name"],
        "date_expires": iso8601(cert["not_after"]),
        "date_created": iso8601(cert["date_created"]),
        "date_updated": iso8601(cert["date_updated"]),
        "cert_in_validation": None,
        "url": f"{base_url}/v1/LinkShortening/Domains/{cert['domain_sid']}/Certificate",
    }
