"""Counting SMS segments for GSM-7 and UCS-2 bodies."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.common.segments import GSM7_BASIC, GSM7_EXTENSION, count_segments


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two septets each
        ("€" * 81, 2),
        ("é" * 160, 1),  # é is in the GSM-7 basic table
        ("ç" * 70, 1),  # ç is not: UCS-2
        ("ç" * 71, 2),
        ("ç" * 134, 2),
        ("ç" * 135, 3),
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("😀" * 36, 2),
    ],
)
def test_segments(body: str, segments: int) -> None:
    """Single messages hold 160 septets or 70 units; parts hold 153 or 67."""
    assert count_segments(body) == segments


@pytest.mark.parametrize("escaped", ["€", "[", "{", "~"])
def test_an_escape_sequence_is_not_split_between_parts(escaped: str) -> None:
    """152 septets, a two-septet character, 152 more: the character opens part 2."""
    assert count_segments("a" * 152 + escaped + "a" * 152) == 3


def test_a_surrogate_pair_is_not_split_between_parts() -> None:
    """66 units, a character outside the BMP, 66 more: the pair opens part 2."""
    assert count_segments("ç" * 66 + "😀" + "ç" * 66) == 3


def _septets(body: str) -> list[int]:
    return [2 if char in GSM7_EXTENSION else 1 for char in body]


def _utf16_units(body: str) -> list[int]:
    return [len(char.encode("utf-16-le")) // 2 for char in body]


def _fewest_parts(widths: list[int], part: int) -> int:
    """The fewest cuts between characters leaving no part over ``part`` units."""
    fewest = [0] + [math.inf] * len(widths)
    for end in range(1, len(widths) + 1):
        size = 0
        for start in range(end - 1, -1, -1):
            size += widths[start]
            if size > part:
                break
            fewest[end] = min(fewest[end], fewest[start] + 1)
    return int(fewest[-1])


GSM7 = sorted(GSM7_BASIC | GSM7_EXTENSION)
# Extension characters drawn as often as all the others, to meet part boundaries.
GSM7_TEXT = st.text(
    alphabet=st.sampled_from(GSM7) | st.sampled_from(sorted(GSM7_EXTENSION)),
    min_size=80,
    max_size=500,
)
# Mixed with GSM-7 characters, but never encodable in GSM-7 alone.
UCS2_TEXT = st.text(
    alphabet=st.sampled_from(["ç", "a", "€", "😀", "𝄞", "中"]),
    min_size=40,
    max_size=250,
).filter(lambda body: not set(body) <= set(GSM7))


def _filling_whole_parts(
    text: st.SearchStrategy[str], widths: Callable[[str], list[int]], part: int
) -> st.SearchStrategy[str]:
    """Bodies padded with ``a`` to fill two or more parts exactly.

    A character split between parts then costs a whole extra part, so a count
    that ignores the split is caught every time it happens.
    """

    def pad(body: str) -> str:
        size = sum(widths(body))
        return body + "a" * (max(2, -(-size // part)) * part - size)

    return text.map(pad)


GSM7_BODIES = GSM7_TEXT | _filling_whole_parts(GSM7_TEXT, _septets, 153)
UCS2_BODIES = UCS2_TEXT | _filling_whole_parts(UCS2_TEXT, _utf16_units, 67)


@given(GSM7_BODIES)
def test_gsm7_parts_are_the_fewest_whole_character_cuts(body: str) -> None:
    """Any GSM-7 body: one part up to 160 septets, else the fewest 153-septet cuts."""
    widths = _septets(body)
    expected = 1 if sum(widths) <= 160 else _fewest_parts(widths, 153)
    assert count_segments(body) == expected


@given(UCS2_BODIES)
def test_ucs2_parts_are_the_fewest_whole_character_cuts(body: str) -> None:
    """Any UCS-2 body: one part up to 70 units, else the fewest 67-unit cuts."""
    widths = _utf16_units(body)
    expected = 1 if sum(widths) <= 70 else _fewest_parts(widths, 67)
    assert count_segments(body) == expected


@given(GSM7_TEXT, st.sampled_from(GSM7))
def test_a_longer_body_never_takes_fewer_segments(body: str, char: str) -> None:
    """Appending a character never lowers the count."""
    assert count_segments(body + char) >= count_segments(body)
