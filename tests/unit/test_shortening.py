"""Finding links in a body and replacing them with short links."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from services.scheduler.shortening import CODE_LENGTH, find_links, new_code, shorten

CODE = re.compile(r"[0-9A-Za-z]{10}")


def test_link_keeps_its_query_and_drops_sentence_punctuation() -> None:
    """A link ends before trailing punctuation but keeps its query string."""
    body = "Sale! https://shop.test/a?b=1&c=2. Also (https://shop.test/x)"
    spans = [body[start:end] for start, end in find_links(body)]
    assert spans == ["https://shop.test/a?b=1&c=2", "https://shop.test/x"]


def test_every_link_gets_its_own_code() -> None:
    """Two equal links in one body become two different short links."""
    body = "https://shop.test/a and again https://shop.test/a"
    rewritten, links = shorten(body, "ls.shop.test", disable_https=False)
    assert len({link.code for link in links}) == 2
    assert rewritten == f"{links[0].short_url} and again {links[1].short_url}"
    assert all(link.original_url == "https://shop.test/a" for link in links)


def test_disable_https_writes_links_without_scheme() -> None:
    """With DisableHttps the short link is written as ``domain/code``."""
    rewritten, links = shorten("go https://a.test/", "ls.shop.test", disable_https=True)
    assert rewritten == f"go ls.shop.test/{links[0].code}"


def test_body_without_links_is_unchanged() -> None:
    """A body with no http(s) link is left exactly as it was."""
    assert shorten("ftp://a.test and www.b.test", "d.test", disable_https=False) == (
        "ftp://a.test and www.b.test",
        [],
    )


def test_codes_are_ten_base62_characters_and_do_not_repeat() -> None:
    """Codes have the documented shape and 10,000 of them are all distinct."""
    codes = [new_code() for _ in range(10_000)]
    assert all(CODE.fullmatch(code) for code in codes)
    assert len(set(codes)) == len(codes)
    assert CODE_LENGTH == 10


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_text_outside_links_survives_rewriting(text: str) -> None:
    """Whatever surrounds a link is kept, character for character."""
    body = f"{text} https://shop.test/p?q=1 {text}"
    rewritten, links = shorten(body, "d.test", disable_https=False)
    restored = rewritten
    for link in links:
        restored = restored.replace(link.short_url, link.original_url, 1)
    assert restored == body
