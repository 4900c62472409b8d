"""Wire formats: RFC 2822 dates for the 2010 API, ISO 8601 for v1."""

from __future__ import annotations

from datetime import UTC, datetime

# English names whatever the locale, as RFC 2822 requires.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def rfc2822(value: datetime | None) -> str | None:
    """``Thu, 24 Aug 2023 05:01:45 +0000``, as the 2010-04-01 API writes dates.

    Written out directly: ``email.utils.format_datetime`` costs a noticeable
    share of a message create, which renders three of these.
    """
    if value is None:
        return None
    t = value.astimezone(UTC)
    return (
        f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d}"
        f" {t.hour:02d}:{t.minute:02d}:{t.second:02d} +0000"
    )


def iso8601(value: datetime | None) -> str | None:
    """``2023-08-24T05:01:45Z``, as the v1 APIs write dates."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
