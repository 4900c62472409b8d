"""The raw JSON of a created message, field for field as Twilio writes it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
import pytest

from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import Account, basic_auth, open_account, sdk_client
from tests.support.stack import Stack

from .test_message_errors import in_future, make_service

RECIPIENT = "+15558675310"
RFC_2822 = re.compile(
    r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$"
)
MESSAGE_FIELDS = {
    "account_sid",
    "api_version",
    "body",
    "date_created",
    "date_sent",
    "date_updated",
    "direction",
    "error_code",
    "error_message",
    "from",
    "messaging_service_sid",
    "num_media",
    "num_segments",
    "price",
    "price_unit",
    "sid",
    "status",
    "subresource_uris",
    "to",
    "uri",
}


@pytest.fixture(scope="module")
async def shaper(api_stack: Stack) -> tuple[Account, str]:
    """An account with one number and a service that sends from it."""
    account = await open_account(api_stack, "Shape Shoes", "+17145550501")
    return account, await make_service(api_stack, account)


async def call(
    stack: Stack,
    account: Account,
    method: str,
    path: str,
    form: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """``method`` on the account's 2010 ``path``; the status and JSON body."""
    url = f"{stack.api_url}/2010-04-01/Accounts/{account.sid}/{path}"
    async with (
        aiohttp.ClientSession(headers=basic_auth(account.sid, account.token)) as s,
        s.request(method, url, data=form) as reply,
    ):
        return reply.status, await reply.json()


async def create(
    stack: Stack, account: Account, form: dict[str, str]
) -> dict[str, Any]:
    status, body = await call(stack, account, "POST", "Messages.json", form)
    assert status == 201, body
    return body


async def test_created_message_has_twilio_fields(
    api_stack: Stack, shaper: tuple[Account, str]
) -> None:
    """Exactly Twilio's keys; RFC 2822 dates; counts as strings; relative URIs."""
    account, _ = shaper
    body = await create(
        api_stack, account, {"To": RECIPIENT, "From": account.number, "Body": "hi"}
    )
    assert set(body) == MESSAGE_FIELDS
    assert RFC_2822.match(body["date_created"])
    assert RFC_2822.match(body["date_updated"])
    assert body["date_sent"] is None
    assert (body["num_segments"], body["num_media"]) == ("1", "0")
    path = f"/2010-04-01/Accounts/{account.sid}/Messages/{body['sid']}"
    assert re.fullmatch(r"SM[0-9a-f]{32}", body["sid"])
    assert body["uri"] == f"{path}.json"
    assert body["subresource_uris"] == {"media": f"{path}/Media.json"}
    assert (body["api_version"], body["direction"]) == ("2010-04-01", "outbound-api")
    assert (body["account_sid"], body["to"], body["body"]) == (
        account.sid,
        RECIPIENT,
        "hi",
    )
    assert (body["error_code"], body["error_message"], body["price"]) == (
        None,
        None,
        None,
    )


async def test_fetch_returns_what_create_returned(
    api_stack: Stack, shaper: tuple[Account, str]
) -> None:
    """The fetched JSON of a fresh message equals the JSON its create returned."""
    account, service_sid = shaper
    created = await create(
        api_stack,
        account,
        {"To": RECIPIENT, "MessagingServiceSid": service_sid, "Body": "same"},
    )
    status, fetched = await call(
        api_stack, account, "GET", f"Messages/{created['sid']}.json"
    )
    assert (status, fetched) == (200, created)


async def test_a_long_body_counts_its_segments_as_a_string(
    api_stack: Stack, shaper: tuple[Account, str]
) -> None:
    """161 GSM-7 characters take two segments, written ``"2"``."""
    account, _ = shaper
    body = await create(
        api_stack, account, {"To": RECIPIENT, "From": account.number, "Body": "a" * 161}
    )
    assert body["num_segments"] == "2"


async def test_initial_status_follows_how_it_was_sent(
    api_stack: Stack, shaper: tuple[Account, str]
) -> None:
    """``queued`` from a number, ``accepted`` via a service, ``scheduled`` later."""
    account, service_sid = shaper
    direct = {"To": RECIPIENT, "From": account.number, "Body": "x"}
    pooled = {"To": RECIPIENT, "MessagingServiceSid": service_sid, "Body": "x"}
    later = {**pooled, "ScheduleType": "fixed", "SendAt": in_future(3600)}
    queued, accepted, scheduled = [
        await create(api_stack, account, form) for form in (direct, pooled, later)
    ]
    assert (queued["status"], queued["from"]) == ("queued", account.number)
    assert queued["messaging_service_sid"] is None
    assert (accepted["status"], accepted["from"]) == ("accepted", None)
    assert accepted["messaging_service_sid"] == service_sid
    assert (scheduled["status"], scheduled["date_sent"]) == ("scheduled", None)


async def test_unknown_parameters_are_ignored(
    api_stack: Stack, shaper: tuple[Account, str]
) -> None:
    """Parameters Pigeon does not act on, or never heard of, change nothing."""
    account, service_sid = shaper
    plain = {"To": RECIPIENT, "MessagingServiceSid": service_sid, "Body": "extra"}
    extras = {
        "MessageIntent": "marketing",
        "SmartEncoded": "true",
        "RiskCheck": "disable",
        "ProvideFeedback": "true",
        "TrafficType": "free",
        "PigeonMadeUpParameter": "anything",
    }
    expected = await create(api_stack, account, plain)
    body = await create(api_stack, account, {**plain, **extras})
    assert set(body) == MESSAGE_FIELDS
    unchanged = ("status", "body", "to", "messaging_service_sid", "num_segments")
    assert {k: body[k] for k in unchanged} == {k: expected[k] for k in unchanged}


async def test_sdk_sends_newer_parameters(
    api_stack: Stack, shaper: tuple[Account, str]
) -> None:
    """The SDK's own MessageIntent, SmartEncoded and RiskCheck are accepted."""
    account, service_sid = shaper
    client = sdk_client(api_stack, account.sid, account.token)
    message = await asyncio.to_thread(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=service_sid,
        body="newer",
        message_intent="notifications",
        smart_encoded=True,
        risk_check="enable",
    )
    assert (message.status, message.body) == ("accepted", "newer")


@pytest.mark.parametrize(
    "written", ["(714) 555-0199", "+1 714-555-0199", "714.555.0199", "+17145550199"]
)
async def test_to_is_stored_in_e164(
    api_stack: Stack, shaper: tuple[Account, str], written: str
) -> None:
    """However a North American ``To`` is written, it is stored in E.164."""
    account, service_sid = shaper
    client = sdk_client(api_stack, account.sid, account.token)
    message = await asyncio.to_thread(
        client.messages.create,
        to=written,
        messaging_service_sid=service_sid,
        body="normalised",
    )
    fetched = await asyncio.to_thread(client.messages(message.sid).fetch)
    assert (message.to, fetched.to) == ("+17145550199", "+17145550199")


@pytest.mark.parametrize("written", ["+1 555", "(714) 555-01", "+1714555019999"])
async def test_impossible_to_is_refused(
    api_stack: Stack, shaper: tuple[Account, str], written: str
) -> None:
    """A ``To`` with the wrong number of digits answers 21211."""
    account, service_sid = shaper
    client = sdk_client(api_stack, account.sid, account.token)
    error = await rest_error(
        client.messages.create, to=written, messaging_service_sid=service_sid, body="x"
    )
    assert_twilio_error(error, 21211, 400)
