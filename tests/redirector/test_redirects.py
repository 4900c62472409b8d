"""Redirect decisions: code shape, safe targets, host matching and outcomes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.redirector.links import DomainPolicy, Link
from services.redirector.redirects import (
    Decision,
    Outcome,
    decide,
    host_name,
    is_redirectable,
    is_valid_code,
    link_on,
    served_domain,
)

NOW = datetime(2025, 11, 28, 9, 0, tzinfo=UTC)
CODE = "aB3dE5gH9k"
SHOP = DomainPolicy(
    sid="DN" + "1" * 32,
    name="ls.owlshoes.test",
    fallback_url="https://owlshoes.test/sale",
    disable_https=False,
)


def make_link(
    *,
    url: str = "https://owlshoes.test/boots?utm_source=sms&id=7",
    expires_at: datetime = NOW + timedelta(days=1),
    domain: DomainPolicy = SHOP,
) -> Link:
    return Link(
        code=CODE,
        domain=domain,
        original_url=url,
        created_at=NOW - timedelta(days=1),
        expires_at=expires_at,
        message_sid="SM" + "2" * 32,
        account_sid="AC" + "3" * 32,
        messaging_service_sid=None,
        to="+15005550006",
        from_="+15005550001",
    )


@pytest.mark.parametrize("code", ["aB3dE5gH9k", "0000000000", "ZZZZZZZZZZ"])
def test_ten_base62_characters_are_a_code(code: str) -> None:
    """Exactly ten ASCII letters and digits form a valid short code."""
    assert is_valid_code(code)


@pytest.mark.parametrize(
    "code",
    [
        "",
        "aB3dE5gH9",
        "aB3dE5gH9kX",
        "aB3dE5gH9-",
        "aB3dE5gH9\n",
        "aB3dE5gH9é",
        "١٢٣٤٥٦٧٨٩٠",
    ],
)
def test_anything_else_is_not_a_code(code: str) -> None:
    """Shorter, longer, punctuated or non-ASCII candidates are refused."""
    assert not is_valid_code(code)


@pytest.mark.parametrize(
    "url",
    ["https://owlshoes.test/a?b=c#d", "http://owlshoes.test", "HTTPS://OWLSHOES.TEST/"],
)
def test_http_and_https_urls_are_redirectable(url: str) -> None:
    """Absolute http and https URLs, in any case, may be redirected to."""
    assert is_redirectable(url)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://owlshoes.test/file",
        "//owlshoes.test/path",
        "/relative",
        "https:///no-host",
        "https://owlshoes.test/\r\nSet-Cookie: a=b",
    ],
)
def test_other_urls_are_not_redirectable(url: str | None) -> None:
    """Other schemes, relative URLs and header-breaking characters are refused."""
    assert not is_redirectable(url)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ls.owlshoes.test", "ls.owlshoes.test"),
        ("LS.OwlShoes.Test:8443", "ls.owlshoes.test"),
        ("ls.owlshoes.test.", "ls.owlshoes.test"),
        ("[::1]:8081", "[::1]"),
        (None, None),
        ("", None),
        ("user@ls.owlshoes.test", None),
        ("ls.owlshoes.test/x", None),
        ("ls.owlshoes.test:port", None),
    ],
)
def test_host_header_names_a_lower_case_host(
    header: str | None, expected: str | None
) -> None:
    """The Host header loses port and trailing dot; malformed headers name none."""
    assert host_name(header) == expected


def test_tls_request_whose_host_differs_from_sni_names_no_domain() -> None:
    """On TLS the Host header must name the domain chosen by SNI."""
    assert served_domain("other.test", secure=True, sni_name="ls.owlshoes.test") is None
    assert (
        served_domain("LS.owlshoes.test:443", secure=True, sni_name="ls.owlshoes.test")
        == "ls.owlshoes.test"
    )


def test_plain_request_uses_the_host_header() -> None:
    """Without TLS there is no SNI name and the Host header decides."""
    assert served_domain("owl.test", secure=False, sni_name=None) == "owl.test"


def test_link_of_another_domain_is_unknown_here() -> None:
    """A code is only found on its own domain; elsewhere it is unknown."""
    link = make_link()

    assert link_on(link, "ls.owlshoes.test") is link
    assert link_on(link, "evil.test") is None
    assert link_on(None, "ls.owlshoes.test") is None


def test_live_link_redirects_to_its_url_exactly() -> None:
    """A live link redirects to its original URL, query string untouched."""
    link = make_link()

    decision = decide(CODE, link, SHOP, now=NOW, secure=True)

    assert decision == Decision(Outcome.REDIRECTED, link.original_url)
    assert decision.is_click


def test_expired_link_redirects_to_the_fallback() -> None:
    """At its expiry instant a link leads to the domain's fallback URL."""
    link = make_link(expires_at=NOW)

    decision = decide(CODE, link, SHOP, now=NOW, secure=True)

    assert decision == Decision(Outcome.EXPIRED_FALLBACK, SHOP.fallback_url)
    assert decision.is_click


def test_expired_link_without_fallback_is_not_found() -> None:
    """An expired link on a domain without fallback URL is a 404."""
    bare = DomainPolicy(SHOP.sid, SHOP.name, fallback_url=None, disable_https=False)
    link = make_link(expires_at=NOW - timedelta(seconds=1), domain=bare)

    decision = decide(CODE, link, bare, now=NOW, secure=True)

    assert decision == Decision(Outcome.EXPIRED)
    assert decision.location is None


def test_unknown_code_redirects_to_the_fallback() -> None:
    """A code the domain does not know leads to the domain's fallback URL."""
    decision = decide(CODE, None, SHOP, now=NOW, secure=True)

    assert decision == Decision(Outcome.UNKNOWN_FALLBACK, SHOP.fallback_url)
    assert not decision.is_click


def test_unknown_domain_is_not_found() -> None:
    """A request for a domain Pigeon does not know is a 404."""
    assert decide(CODE, None, None, now=NOW, secure=True) == Decision(Outcome.UNKNOWN)


def test_link_to_another_scheme_is_refused() -> None:
    """A stored URL that is not http(s) is never redirected to."""
    link = make_link(url="javascript:alert(document.cookie)")

    decision = decide(CODE, link, SHOP, now=NOW, secure=True)

    assert decision == Decision(Outcome.UNSAFE_URL)
    assert not decision.is_click


def test_fallback_to_another_scheme_is_refused() -> None:
    """A fallback URL that is not http(s) is never redirected to."""
    odd = DomainPolicy(SHOP.sid, SHOP.name, "data:text/html,x", disable_https=False)

    decision = decide(CODE, None, odd, now=NOW, secure=True)

    assert decision == Decision(Outcome.UNSAFE_URL)


def test_plain_http_on_a_https_domain_is_upgraded() -> None:
    """Without TLS, a domain that has not disabled HTTPS is sent to HTTPS."""
    decision = decide(CODE, make_link(), SHOP, now=NOW, secure=False)

    assert decision == Decision(Outcome.HTTPS_UPGRADE, f"https://{SHOP.name}/{CODE}")
    assert not decision.is_click


def test_plain_http_on_a_http_domain_redirects() -> None:
    """A domain that disabled HTTPS serves its links over plain HTTP."""
    plain = DomainPolicy(SHOP.sid, "owl.test", None, disable_https=True)
    link = make_link(domain=plain)

    decision = decide(CODE, link, plain, now=NOW, secure=False)

    assert decision == Decision(Outcome.REDIRECTED, link.original_url)
    assert link.shortened_url == f"http://owl.test/{CODE}"
