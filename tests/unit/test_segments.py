"""Counting SMS segments for GSM-7 and UCS-2 bodies."""

from __future__ import annotations

import pytest

from libs.common.segments import count_segments


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
