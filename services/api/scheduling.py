"""Twilio's rules for ``ScheduleType`` and ``SendAt``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.common.errors import InvalidParameterError

SEND_AT_MISSING = 35111
SEND_AT_UNSUPPORTED = 35114
SERVICE_REQUIRED = 35118
SCHEDULE_LIMIT = 35125
SCHEDULE_TYPE_UNSUPPORTED = 35126


def parse_send_at(value: str) -> datetime:
    """An ISO 8601 instant; a value without an offset is read as UTC."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidParameterError(
            SEND_AT_UNSUPPORTED, f"SendAt {value!r} is not an ISO 8601 timestamp."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_schedule(
    schedule_type: str | None,
    send_at: str | None,
    service_sid: str | None,
    *,
    now: datetime,
    min_lead: timedelta,
    max_lead: timedelta,
) -> datetime | None:
    """The instant to send at, or ``None`` to send now; Twilio's codes otherwise."""
    if schedule_type is None:
        if send_at:
            raise InvalidParameterError(
                SCHEDULE_TYPE_UNSUPPORTED, "SendAt needs ScheduleType=fixed."
            )
        return None
    if schedule_type != "fixed":
        raise InvalidParameterError(
            SCHEDULE_TYPE_UNSUPPORTED,
            f"The ScheduleType value {schedule_type!r} is not supported.",
        )
    if not send_at:
        raise InvalidParameterError(SEND_AT_MISSING, "SendAt is required to schedule.")
    if service_sid is None:
        raise InvalidParameterError(
            SERVICE_REQUIRED, "MessagingServiceSid is required to schedule a message."
        )
    instant = parse_send_at(send_at)
    lead = instant - now
    if not min_lead <= lead <= max_lead:
        raise InvalidParameterError(
            SEND_AT_UNSUPPORTED,
            f"SendAt must be between {int(min_lead.total_seconds())} seconds and "
            f"{int(max_lead.total_seconds())} seconds in the future.",
        )
    return instant
