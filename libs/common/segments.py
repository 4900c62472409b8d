"""How many SMS segments a body takes: GSM-7 when it can, UCS-2 otherwise.

GSM 03.38: a single message holds 160 septets, or 153 per part when
concatenated (the user data header takes 7); characters of the extension table
take two septets.  UCS-2 holds 70 code units, or 67 per part, and characters
outside the Basic Multilingual Plane take two units.
"""

from __future__ import annotations

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def gsm7_length(body: str) -> int | None:
    """Septets ``body`` needs in GSM-7, or ``None`` if it cannot be encoded."""
    length = 0
    for char in body:
        if char in GSM7_BASIC:
            length += 1
        elif char in GSM7_EXTENSION:
            length += 2
        else:
            return None
    return length


def ucs2_length(body: str) -> int:
    """UTF-16 code units ``body`` needs."""
    return len(body.encode("utf-16-le")) // 2


def count_segments(body: str) -> int:
    """Segments needed to send ``body``; an empty body is one segment."""
    septets = gsm7_length(body)
    if septets is not None:
        return _parts(septets, GSM7_SINGLE, GSM7_PART)
    return _parts(ucs2_length(body), UCS2_SINGLE, UCS2_PART)


def _parts(units: int, single: int, part: int) -> int:
    if units <= single:
        return 1
    return -(-units // part)
