"""Rewriting the links in a body to short links on the service's domain.

Every link gets its own code, so a click names the message it came from.  A
code is 10 characters drawn from the 62 letters and digits with ``secrets``:
about 59.5 bits, so codes cannot be guessed or enumerated.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass

CODE_ALPHABET = string.ascii_letters + string.digits
CODE_LENGTH = 10

# A link starts at http(s):// and runs to white space; punctuation that ends a
# sentence is not part of it.
_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True)
class ShortLink:
    code: str
    original_url: str
    short_url: str


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def find_links(body: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every link in ``body``, in order."""
    spans = []
    for match in _LINK.finditer(body):
        start, end = match.span()
        while end > start and body[end - 1] in _TRAILING:
            end -= 1
        spans.append((start, end))
    return spans


def short_url(domain_name: str, code: str, *, disable_https: bool) -> str:
    """``https://<domain>/<code>``, or without the scheme when HTTPS is off."""
    return f"{domain_name}/{code}" if disable_https else f"https://{domain_name}/{code}"


def shorten(
    body: str, domain_name: str, *, disable_https: bool
) -> tuple[str, list[ShortLink]]:
    """Return the body with each link replaced, and the links created."""
    pieces: list[str] = []
    links: list[ShortLink] = []
    cursor = 0
    for start, end in find_links(body):
        code = new_code()
        link = ShortLink(
            code,
            body[start:end],
            short_url(domain_name, code, disable_https=disable_https),
        )
        pieces += [body[cursor:start], link.short_url]
        links.append(link)
        cursor = end
    pieces.append(body[cursor:])
    return "".join(pieces), links
