"""The bodies Pigeon POSTs: the click event's JSON and the status callback's form.

Both are pure functions of the event (and, for a status, the message's parties),
so a delivery row stores exactly the bytes that will be signed and sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import orjson

from libs.common.events import LinkClicked, MessageStatusChanged

JSON_CONTENT_TYPE = "application/json"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
API_VERSION = "2010-04-01"
CLICK_EVENT_TYPE = "click"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True)
class MessageParties:
    """The message fields a status callback repeats, read from its row."""

    to: str
    from_: str | None
    messaging_service_sid: str | None


def iso_millis(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``: ``2025-01-01T00:00:00.000Z``."""
    text = _as_utc(moment).isoformat(timespec="milliseconds")
    return text.removesuffix("+00:00") + "Z"


def epoch_millis(moment: datetime) -> int:
    """Whole milliseconds since the Unix epoch."""
    return (_as_utc(moment) - _EPOCH) // _MILLISECOND


def click_payload(event: LinkClicked) -> dict[str, object]:
    """The click webhook's fields: Twilio's names first, Pigeon's extensions after."""
    return {
        "event_type": CLICK_EVENT_TYPE,
        "account_sid": event.account_sid,
        "messaging_service_sid": event.messaging_service_sid,
        "sms_sid": event.message_sid,
        "to": event.to,
        "from": event.from_,
        "link": event.link,
        "clicked_at": epoch_millis(event.clicked_at),
        "user_agent": event.user_agent,
        "click_time": iso_millis(event.clicked_at),
        "shortened_link": event.shortened_link,
        "link_create_time": iso_millis(event.link_created_at),
        "event_id": str(event.event_id),
    }


def click_body(event: LinkClicked) -> bytes:
    """The click webhook's JSON body."""
    return orjson.dumps(click_payload(event))


def status_params(
    event: MessageStatusChanged, parties: MessageParties
) -> dict[str, str]:
    """Twilio's status callback parameters; never the message body.

    ``From`` and ``MessagingServiceSid`` appear when the message has them;
    ``ErrorCode`` and ``ErrorMessage`` only when the status carries an error.
    """
    params = {
        "MessageSid": event.message_sid,
        "MessageStatus": event.status,
        "SmsSid": event.message_sid,
        "SmsStatus": event.status,
        "AccountSid": event.account_sid,
        "To": parties.to,
        "ApiVersion": API_VERSION,
    }
    if parties.from_ is not None:
        params["From"] = parties.from_
    if parties.messaging_service_sid is not None:
        params["MessagingServiceSid"] = parties.messaging_service_sid
    if event.error_code is not None:
        params["ErrorCode"] = str(event.error_code)
        if event.error_message is not None:
            params["ErrorMessage"] = event.error_message
    return params


def status_body(event: MessageStatusChanged, parties: MessageParties) -> bytes:
    """The status callback's form-encoded body."""
    return urlencode(status_params(event, parties)).encode()


def _as_utc(moment: datetime) -> datetime:
    # Events carry aware times; a naive one is taken to be UTC already.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
