"""Bad message requests get Twilio's error codes, never a server error."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.rest import Client

from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import Account, sdk_client
from tests.support.stack import Stack

RECIPIENT = "+15558675310"


async def make_service(stack: Stack, account: Account, with_sender: bool = True) -> str:
    client = sdk_client(stack, account.sid, account.token)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create, friendly_name="Campaigns"
    )
    if with_sender:
        await asyncio.to_thread(
            client.messaging.v1.services(service.sid).phone_numbers.create,
            phone_number_sid=account.number_sid,
        )
    sid: str = service.sid
    return sid


@pytest.fixture(scope="module")
async def service_sid(api_stack: Stack, shop: Account) -> str:
    return await make_service(api_stack, shop)


async def schedule_in_an_hour(client: Client, service_sid: str, body: str) -> Any:
    """A message scheduled an hour ahead through the service."""
    return await asyncio.to_thread(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=service_sid,
        body=body,
        schedule_type="fixed",
        send_at=in_future(3600),
    )


def in_future(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


CASES: list[tuple[str, dict[str, Any], int]] = [
    ("missing To", {"body": "hi"}, 21604),
    ("unparsable To", {"to": "not-a-number", "body": "hi"}, 21211),
    ("no sender", {"to": RECIPIENT, "body": "hi", "from_": None}, 21603),
    ("no content", {"to": RECIPIENT}, 21619),
    ("long body", {"to": RECIPIENT, "body": "x" * 1601}, 21617),
    (
        "number not owned",
        {"to": RECIPIENT, "body": "hi", "from_": "+17145550999"},
        21606,
    ),
    (
        "ContentVariables without ContentSid",
        {"to": RECIPIENT, "body": "hi", "content_variables": '{"1": "Owl"}'},
        21654,
    ),
    (
        "eleven media",
        {
            "to": RECIPIENT,
            "media_url": [f"https://example.com/{i}.png" for i in range(11)],
        },
        21623,
    ),
    (
        "validity too long",
        {"to": RECIPIENT, "body": "hi", "validity_period": 36001},
        90007,
    ),
    (
        "bad schedule type",
        {"to": RECIPIENT, "body": "hi", "schedule_type": "daily"},
        35126,
    ),
    (
        "SendAt missing",
        {"to": RECIPIENT, "body": "hi", "schedule_type": "fixed"},
        35111,
    ),
    (
        "SendAt malformed",
        {"to": RECIPIENT, "body": "hi", "schedule_type": "fixed", "send_at": "soon"},
        35114,
    ),
    (
        "SendAt beyond 35 days",
        {
            "to": RECIPIENT,
            "body": "hi",
            "schedule_type": "fixed",
            "send_at": in_future(36 * 24 * 3600),
        },
        35114,
    ),
    (
        "SendAt too soon",
        {
            "to": RECIPIENT,
            "body": "hi",
            "schedule_type": "fixed",
            "send_at": in_future(10),
        },
        35114,
    ),
]


@pytest.mark.parametrize(("case", "params", "code"), CASES, ids=[c[0] for c in CASES])
async def test_invalid_create_is_refused_with_twilio_code(
    api_stack: Stack,
    shop: Account,
    service_sid: str,
    case: str,
    params: dict[str, Any],
    code: int,
) -> None:
    """Each malformed create answers 400 with the code Twilio documents for it."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    params = dict(params)
    if "from_" not in params:
        params["messaging_service_sid"] = service_sid
    elif params["from_"] is None:
        del params["from_"]
    if "to" not in params:
        # The SDK insists on ``to``; send the request ourselves.
        params["to"] = ""
    error = await rest_error(client.messages.create, **params)
    assert_twilio_error(error, code, 400)


async def test_ten_media_are_accepted(
    api_stack: Stack, shop: Account, service_sid: str
) -> None:
    """Ten MediaUrl values are the most a message may carry, and are allowed."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    message = await asyncio.to_thread(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=service_sid,
        media_url=[f"https://example.com/{i}.png" for i in range(10)],
    )
    assert message.num_media == "10"


async def test_scheduling_without_a_service_is_refused(
    api_stack: Stack, shop: Account
) -> None:
    """ScheduleType with only From is refused (35118) rather than sent at once."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    error = await rest_error(
        client.messages.create,
        to=RECIPIENT,
        from_=shop.number,
        body="hi",
        schedule_type="fixed",
        send_at=in_future(900),
    )
    assert_twilio_error(error, 35118, 400)


async def test_another_accounts_service_does_not_exist(
    api_stack: Stack, shop: Account, rival: Account
) -> None:
    """A service SID of another account is answered as unknown (21701)."""
    rival_service = await make_service(api_stack, rival)
    client = sdk_client(api_stack, shop.sid, shop.token)
    error = await rest_error(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=rival_service,
        body="hi",
    )
    assert_twilio_error(error, 21701, 400)


async def test_malformed_service_sid_is_refused(
    api_stack: Stack, shop: Account
) -> None:
    """A MessagingServiceSid that is not an MG SID is refused (21701)."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    error = await rest_error(
        client.messages.create, to=RECIPIENT, messaging_service_sid="MG123", body="hi"
    )
    assert_twilio_error(error, 21701, 400)


async def test_service_without_senders_is_refused(
    api_stack: Stack, shop: Account
) -> None:
    """A service with an empty sender pool cannot send (21704)."""
    empty = await make_service(api_stack, shop, with_sender=False)
    client = sdk_client(api_stack, shop.sid, shop.token)
    error = await rest_error(
        client.messages.create, to=RECIPIENT, messaging_service_sid=empty, body="hi"
    )
    assert_twilio_error(error, 21704, 400)


async def test_shortening_needs_a_domain(
    api_stack: Stack, shop: Account, service_sid: str
) -> None:
    """ShortenUrls on a service without a domain is refused (30106)."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    error = await rest_error(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=service_sid,
        body="see https://example.com/",
        shorten_urls=True,
    )
    assert_twilio_error(error, 30106, 400)


async def test_another_accounts_message_is_not_found(
    api_stack: Stack, shop: Account, rival: Account, service_sid: str
) -> None:
    """Fetching, canceling or redacting another account's message is a 404 (20404)."""
    own = sdk_client(api_stack, shop.sid, shop.token)
    message = await asyncio.to_thread(
        own.messages.create, to=RECIPIENT, messaging_service_sid=service_sid, body="hi"
    )
    other = sdk_client(api_stack, rival.sid, rival.token)
    # The rival authenticates as itself but asks for the shop's message.
    fetched = await rest_error(other.messages(message.sid).fetch)
    assert_twilio_error(fetched, 20404, 404)
    canceled = await rest_error(other.messages(message.sid).update, status="canceled")
    assert_twilio_error(canceled, 20404, 404)


async def test_unscheduled_message_cannot_be_canceled(
    api_stack: Stack, shop: Account, service_sid: str
) -> None:
    """Only a scheduled message can be canceled (30409)."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    message = await asyncio.to_thread(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=service_sid,
        body="hi",
    )
    error = await rest_error(client.messages(message.sid).update, status="canceled")
    assert_twilio_error(error, 30409, 400)


async def test_scheduled_message_is_canceled(
    api_stack: Stack, shop: Account, service_sid: str
) -> None:
    """A scheduled message can be canceled; a second cancel is refused (30409)."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    message = await schedule_in_an_hour(client, service_sid, "later")
    assert message.status == "scheduled"
    canceled = await asyncio.to_thread(
        client.messages(message.sid).update, status="canceled"
    )
    assert canceled.status == "canceled"
    again = await rest_error(client.messages(message.sid).update, status="canceled")
    assert_twilio_error(again, 30409, 400)


async def test_malformed_message_sid_is_not_found(
    api_stack: Stack, shop: Account
) -> None:
    """A path SID that is not a message SID is a 404, not a server error."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    error = await rest_error(client.messages("SMnot-a-sid").fetch)
    assert_twilio_error(error, 20404, 404)


async def test_a_pending_message_cannot_be_redacted(
    api_stack: Stack, shop: Account, service_sid: str
) -> None:
    """Redacting a message still to be sent is refused (20009); its body stays."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    scheduled = await schedule_in_an_hour(client, service_sid, "your code is 1234")
    queued = await asyncio.to_thread(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=service_sid,
        body="your code is 5678",
    )
    for message in (scheduled, queued):
        error = await rest_error(client.messages(message.sid).update, body="")
        assert_twilio_error(error, 20009, 400)
        kept = await asyncio.to_thread(client.messages(message.sid).fetch)
        assert kept.body == message.body


async def test_a_canceled_message_can_be_redacted(
    api_stack: Stack, shop: Account, service_sid: str
) -> None:
    """Once canceled, a scheduled message's body can be redacted."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    message = await schedule_in_an_hour(client, service_sid, "your code is 1234")
    await asyncio.to_thread(client.messages(message.sid).update, status="canceled")
    redacted = await asyncio.to_thread(client.messages(message.sid).update, body="")
    assert (redacted.body, redacted.status) == ("", "canceled")
