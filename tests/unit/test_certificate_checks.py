"""What ``TlsCert`` uploads are accepted, and what each refusal says."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from libs.common.errors import ApiError
from services.api.certificates import check_certificate
from tests.support import certs

DOMAIN = "ls.owlshoes.test"
NOW = datetime.now(UTC)
DAY = timedelta(days=1)


def leaf(
    key: certs.Key,
    issuer_key: certs.Key,
    *,
    common_name: str = DOMAIN,
    alt_names: tuple[str, ...] = (DOMAIN,),
    not_before: datetime = NOW - DAY,
    not_after: datetime = NOW + 90 * DAY,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Issuing CA")])
        )
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if alt_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in alt_names]), False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def traditional_pem(key: certs.Key) -> str:
    """``BEGIN RSA PRIVATE KEY`` / ``BEGIN EC PRIVATE KEY``, not PKCS#8."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


def check(tls_cert: str, *, allow_self_signed: bool = False) -> None:
    check_certificate(tls_cert, DOMAIN, allow_self_signed=allow_self_signed, now=NOW)


def refusal(tls_cert: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        check(tls_cert)
    return caught.value


ISSUER = certs.new_key()


def test_a_wildcard_certificate_covers_a_subdomain() -> None:
    key = certs.new_key()
    wildcard = leaf(key, ISSUER, common_name="*.owlshoes.test", alt_names=())
    check(certs.cert_pem(wildcard) + certs.key_pem(key))


def test_a_wildcard_covers_one_label_only() -> None:
    key = certs.new_key()
    wildcard = leaf(key, ISSUER, alt_names=("*.test",))
    error = refusal(certs.cert_pem(wildcard) + certs.key_pem(key))
    assert (error.code, error.message) == (
        30133,
        f"The certificate does not cover {DOMAIN}.",
    )


def test_a_san_certificate_covers_every_name_it_lists() -> None:
    """Twilio refused SAN certificates for years; Pigeon reads every name."""
    key = certs.new_key()
    shared = leaf(
        key,
        ISSUER,
        common_name="www.owlshoes.test",
        alt_names=("www.owlshoes.test", DOMAIN, "shop.owlshoes.test"),
    )
    check(certs.cert_pem(shared) + certs.key_pem(key))


@pytest.mark.parametrize(
    "key",
    [
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec.generate_private_key(ec.SECP384R1()),
    ],
    ids=["rsa-2048", "p-384"],
)
def test_traditional_key_encodings_are_accepted(key: certs.Key) -> None:
    cert = leaf(key, ISSUER)
    check(certs.cert_pem(cert) + traditional_pem(key))


def test_a_chain_in_order_is_accepted() -> None:
    key, middle_key = certs.new_key(), certs.new_key()
    middle = certs.intermediate(ISSUER, middle_key)
    below = certs.issue(
        DOMAIN, key, issuer_key=middle_key, issuer_name="Test Intermediate CA"
    )
    check(certs.cert_pem(below) + certs.cert_pem(middle) + certs.key_pem(key))


def test_self_signed_is_accepted_when_the_operator_allows_a_private_ca() -> None:
    key = certs.new_key()
    own = certs.issue(DOMAIN, key)
    tls_cert = certs.cert_pem(own) + certs.key_pem(key)
    assert refusal(tls_cert).code == 30129
    check(tls_cert, allow_self_signed=True)


def bad_uploads() -> list[tuple[str, str, int, str]]:
    """A corpus of bad uploads: each with its code and words of its message."""
    key = certs.new_key()
    good = leaf(key, ISSUER)
    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    odd_key = ec.generate_private_key(ec.SECP521R1())
    der = base64.b64encode(good.public_bytes(serialization.Encoding.DER)).decode()
    middle_key = certs.new_key()
    middle = certs.intermediate(ISSUER, middle_key)
    below = certs.issue(
        DOMAIN, key, issuer_key=middle_key, issuer_name="Test Intermediate CA"
    )

    def upload(cert: x509.Certificate, private: certs.Key = key) -> str:
        return certs.cert_pem(cert) + certs.key_pem(private)

    return [
        ("garbage", "certainly not PEM", 30116, "no PEM certificate"),
        ("certificate missing", certs.key_pem(key), 30116, "no PEM certificate"),
        ("key missing", certs.cert_pem(good), 30116, "no PEM private key"),
        ("DER instead of PEM", der, 30117, "DER"),
        (
            "unparsable certificate",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
            + certs.key_pem(key),
            30117,
            "could not be parsed",
        ),
        (
            "encrypted key",
            certs.cert_pem(good) + certs.key_pem(key, password=b"pw"),
            30118,
            "encrypted",
        ),
        ("1024-bit RSA", upload(leaf(weak_key, ISSUER), weak_key), 30118, "1024"),
        ("P-521", upload(leaf(odd_key, ISSUER), odd_key), 30118, "secp521r1"),
        ("mismatched key", upload(good, certs.new_key()), 30119, "does not match"),
        ("expired", upload(leaf(key, ISSUER, not_after=NOW - DAY)), 30133, "expired"),
        (
            "not yet valid",
            upload(leaf(key, ISSUER, not_before=NOW + DAY)),
            30133,
            "not valid yet",
        ),
        (
            "wrong domain",
            upload(leaf(key, ISSUER, common_name="x.test", alt_names=("x.test",))),
            30133,
            f"does not cover {DOMAIN}",
        ),
        (
            "chain out of order",
            certs.cert_pem(middle) + certs.cert_pem(below) + certs.key_pem(key),
            30133,
            "out of order",
        ),
        ("self-signed", upload(certs.issue(DOMAIN, key)), 30129, "self-signed"),
    ]


@pytest.mark.parametrize(
    ("tls_cert", "code", "words"),
    [case[1:] for case in bad_uploads()],
    ids=[case[0] for case in bad_uploads()],
)
def test_each_bad_upload_gets_its_code_and_says_why(
    tls_cert: str, code: int, words: str
) -> None:
    error = refusal(tls_cert)
    assert error.code == code
    assert words in error.message
    assert error.status == 400
