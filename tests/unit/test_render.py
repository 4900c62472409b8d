"""Wire formats of dates: RFC 2822 on the 2010 API, ISO 8601 on v1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime

from hypothesis import given
from hypothesis import strategies as st

from services.api.render import iso8601, rfc2822

OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
MOMENTS = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30), timezones=OFFSETS
)


@given(MOMENTS)
def test_rfc2822_matches_the_standard_library(moment: datetime) -> None:
    """Same text as ``email.utils`` for any instant, written in UTC."""
    expected = format_datetime(moment.astimezone(UTC).replace(microsecond=0))
    assert rfc2822(moment) == expected


@given(MOMENTS)
def test_rfc2822_reads_back_to_the_same_second(moment: datetime) -> None:
    parsed = parsedate_to_datetime(rfc2822(moment) or "")
    assert parsed == moment.replace(microsecond=0)


def test_the_example_in_twilios_documentation() -> None:
    moment = datetime(2023, 8, 24, 5, 1, 45, 999_999, tzinfo=UTC)
    assert rfc2822(moment) == "Thu, 24 Aug 2023 05:01:45 +0000"
    assert iso8601(moment) == "2023-08-24T05:01:45Z"


def test_missing_dates_stay_null() -> None:
    assert rfc2822(None) is None
    assert iso8601(None) is None
