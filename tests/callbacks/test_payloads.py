"""The click JSON and the status form, field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs

import orjson
from hypothesis import given
from hypothesis import strategies as st

from libs.common.events import MessageStatusChanged
from services.callbacks.payloads import (
    MessageParties,
    click_body,
    epoch_millis,
    iso_millis,
    status_body,
    status_params,
)

from .records import FROM, TO, Shop, click, status

SHOP = Shop(
    account_sid="AC" + "1" * 32,
    auth_token="unused",
    domain_sid="DN" + "2" * 32,
    service_sid="MG" + "3" * 32,
    message_sid="SM" + "4" * 32,
)
PARTIES = MessageParties(to=TO, from_=FROM, messaging_service_sid=SHOP.service_sid)
CLICK_KEYS = {
    "event_type",
    "account_sid",
    "messaging_service_sid",
    "sms_sid",
    "to",
    "from",
    "link",
    "clicked_at",
    "user_agent",
    "click_time",
    "shortened_link",
    "link_create_time",
    "event_id",
}


def test_click_body_has_exactly_the_documented_keys() -> None:
    """The click JSON carries Twilio's fields plus Pigeon's four extensions."""
    body = orjson.loads(click_body(click(SHOP)))

    assert set(body) == CLICK_KEYS


def test_click_body_values_and_types() -> None:
    """Each click field holds the event's value in the documented form."""
    event = click(SHOP)

    body = orjson.loads(click_body(event))

    assert body["event_type"] == "click"
    assert body["sms_sid"] == SHOP.message_sid
    assert body["messaging_service_sid"] == SHOP.service_sid
    assert body["account_sid"] == SHOP.account_sid
    assert (body["from"], body["to"]) == (FROM, TO)
    assert body["link"] == event.link
    assert body["shortened_link"] == event.shortened_link
    assert body["user_agent"] == event.user_agent
    assert body["event_id"] == str(event.event_id)
    assert body["clicked_at"] == 1764320401579
    assert type(body["clicked_at"]) is int
    assert body["click_time"] == "2025-11-28T09:00:01.579Z"
    assert body["link_create_time"] == "2025-11-28T09:00:00.123Z"


def test_iso_millis_converts_to_utc() -> None:
    """A time in another zone is written as the same instant in UTC."""
    eastern = timezone(timedelta(hours=-5))
    moment = datetime(2025, 11, 28, 4, 0, 0, 999_999, tzinfo=eastern)

    assert iso_millis(moment) == "2025-11-28T09:00:00.999Z"


@given(st.datetimes(timezones=st.just(UTC)))
def test_epoch_millis_agrees_with_iso_millis(moment: datetime) -> None:
    """Both click times name the same millisecond."""
    parsed = datetime.strptime(iso_millis(moment), "%Y-%m-%dT%H:%M:%S.%fZ")
    from_iso = epoch_millis(parsed.replace(tzinfo=UTC))

    assert epoch_millis(moment) == from_iso


def test_status_form_has_twilio_fields_and_never_the_body() -> None:
    """A status callback repeats sid, status, parties and API version, not Body."""
    params = status_params(status(SHOP, "delivered"), PARTIES)

    assert params == {
        "MessageSid": SHOP.message_sid,
        "MessageStatus": "delivered",
        "SmsSid": SHOP.message_sid,
        "SmsStatus": "delivered",
        "AccountSid": SHOP.account_sid,
        "From": FROM,
        "To": TO,
        "ApiVersion": "2010-04-01",
        "MessagingServiceSid": SHOP.service_sid,
    }


def test_status_form_carries_error_only_on_failure() -> None:
    """ErrorCode and ErrorMessage appear when, and only when, there is an error."""
    failed = status_params(status(SHOP, "undelivered", error_code=30005), PARTIES)
    sent = status_params(status(SHOP, "sent"), PARTIES)

    assert failed["ErrorCode"] == "30005"
    assert failed["ErrorMessage"] == "Unknown destination handset"
    assert "ErrorCode" not in sent
    assert "ErrorMessage" not in sent


def test_status_form_omits_what_the_message_lacks() -> None:
    """No MessagingServiceSid or From is invented for a message without them."""
    bare = MessageParties(to=TO, from_=None, messaging_service_sid=None)

    params = status_params(status(SHOP), bare)

    assert "MessagingServiceSid" not in params
    assert "From" not in params


def test_status_body_is_form_encoding_of_the_params() -> None:
    """The stored body decodes back to the same parameters, one value each."""
    event = MessageStatusChanged(
        message_sid=SHOP.message_sid,
        account_sid=SHOP.account_sid,
        status="failed",
        error_code=30008,
        error_message="Unknown error & more",
    )

    decoded = parse_qs(status_body(event, PARTIES).decode())

    assert {k: v[0] for k, v in decoded.items()} == status_params(event, PARTIES)
    assert all(len(values) == 1 for values in decoded.values())
