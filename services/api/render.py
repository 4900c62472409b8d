"""Wire formats: RFC 2822 dates for the 2010 API, ISO 8601 for v1."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime


def rfc2822(value: datetime | None) -> str | None:
    """``Thu, 24 Aug 2023 05:01:45 +0000``, as the 2010-04-01 API writes dates."""
    if value is None:
        return None
    return format_datetime(value.astimezone(UTC).replace(microsecond=0))


def iso8601(value: datetime | None) -> str | None:
    """``2023-08-24T05:01:45Z``, as the v1 APIs write dates."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
