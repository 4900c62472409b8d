"""How many SMS segments a body takes: GSM-7 when it can, UCS-2 otherwise.

GSM 03.38: a single message holds 160 septets, or 153 per part when
concatenated (the user data header takes 7); characters of the extension table
take two septets.  UCS-2 holds 70 code units, or 67 per part, and characters
outside the Basic Multilingual Plane take two units.

A character is never split between parts: an escape sequence or a surrogate
pair that would straddle a boundary starts the next part, leaving one unit of
the previous part unused, so receivers never reassemble half a character.
"""

from __future__ import annotations

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def gsm7_widths(body: str) -> list[int] | None:
    """Septets per character of ``body``; ``None`` if one is not in GSM-7."""
    widths = []
    for char in body:
        if char in GSM7_BASIC:
            widths.append(1)
        elif char in GSM7_EXTENSION:
            widths.append(2)
        else:
            return None
    return widths


def ucs2_widths(body: str) -> list[int]:
    """UTF-16 code units each character of ``body`` needs."""
    return [1 if ord(char) < 0x10000 else 2 for char in body]


def count_segments(body: str) -> int:
    """Segments needed to send ``body``; an empty body is one segment."""
    septets = gsm7_widths(body)
    if septets is not None:
        return _parts(septets, GSM7_SINGLE, GSM7_PART)
    return _parts(ucs2_widths(body), UCS2_SINGLE, UCS2_PART)


def _parts(widths: list[int], single: int, part: int) -> int:
    """Fill parts in order; a character that does not fit opens the next one."""
    if sum(widths) <= single:
        return 1
    parts, filled = 1, 0
    for width in widths:
        if filled + width > part:
            parts, filled = parts + 1, 0
        filled += width
    return parts
