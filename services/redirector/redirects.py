"""What to answer for a short-link request: plain decisions, no I/O.

A request is answered with a redirect only to an absolute http or https URL.
A link is only served on its own domain: the Host header, and on TLS the name
the client asked for in SNI, must both name it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from .links import DomainPolicy, Link

_CODE = re.compile(r"[0-9A-Za-z]{10}")
_REDIRECTABLE_SCHEMES = frozenset({"http", "https"})
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# RFC 9110 section 7.2: uri-host [ ":" port ]; registered names and IP literals.
_HOST_HEADER = re.compile(
    r"(?P<name>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?"
)


class Outcome(StrEnum):
    """How a request was answered; a label of the redirect metric."""

    REDIRECTED = "redirected"
    EXPIRED_FALLBACK = "expired_fallback"
    EXPIRED = "expired"
    UNKNOWN_FALLBACK = "unknown_fallback"
    UNKNOWN = "unknown"
    MALFORMED = "malformed"
    MISDIRECTED = "misdirected"
    UNSAFE_URL = "unsafe_url"
    HTTPS_UPGRADE = "https_upgrade"
    UNAVAILABLE = "unavailable"
    ERROR = "error"


_CLICKS = frozenset({Outcome.REDIRECTED, Outcome.EXPIRED_FALLBACK})


@dataclass(frozen=True, slots=True)
class Decision:
    """A redirect to ``location``, or a 404 when there is none."""

    outcome: Outcome
    location: str | None = None

    @property
    def is_click(self) -> bool:
        """Tell whether the answer counts as a recipient opening the link."""
        return self.outcome in _CLICKS


def is_valid_code(candidate: str) -> bool:
    """Tell whether ``candidate`` has the shape of a short code: 10 base62 chars."""
    return _CODE.fullmatch(candidate) is not None


def is_redirectable(url: str | None) -> bool:
    """Tell whether a browser may be sent to ``url``: absolute http(s) only."""
    if not url or _CONTROL_CHARACTERS.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in _REDIRECTABLE_SCHEMES and bool(parts.hostname)


def host_name(host_header: str | None) -> str | None:
    """The name in a Host header, lower-cased, without port or trailing dot."""
    match = _HOST_HEADER.fullmatch(host_header or "")
    if match is None:
        return None
    return match["name"].rstrip(".").lower() or None


def served_domain(
    host_header: str | None, *, secure: bool, sni_name: str | None
) -> str | None:
    """The domain a request is for, or None when Host and SNI disagree."""
    name = host_name(host_header)
    if secure and name != sni_name:
        return None
    return name


def link_on(link: Link | None, domain_name: str) -> Link | None:
    """``link`` if it belongs to the domain named ``domain_name``; else None."""
    if link is None or link.domain.name != domain_name:
        return None
    return link


def decide(
    code: str,
    link: Link | None,
    domain: DomainPolicy | None,
    *,
    now: datetime,
    secure: bool,
) -> Decision:
    """Answer a request for ``code`` on ``domain``.

    ``link`` is the code's link when it belongs to ``domain``, else None.
    """
    if domain is None:
        return Decision(Outcome.UNKNOWN)
    if not secure and not domain.disable_https:
        return Decision(Outcome.HTTPS_UPGRADE, f"https://{domain.name}/{code}")
    if link is None:
        return _fallback(domain, Outcome.UNKNOWN_FALLBACK, Outcome.UNKNOWN)
    if link.is_expired(now):
        return _fallback(domain, Outcome.EXPIRED_FALLBACK, Outcome.EXPIRED)
    return _redirect(link.original_url, Outcome.REDIRECTED)


def _fallback(domain: DomainPolicy, found: Outcome, missing: Outcome) -> Decision:
    if domain.fallback_url is None:
        return Decision(missing)
    return _redirect(domain.fallback_url, found)


def _redirect(url: str, outcome: Outcome) -> Decision:
    if not is_redirectable(url):
        return Decision(Outcome.UNSAFE_URL)
    return Decision(outcome, url)
