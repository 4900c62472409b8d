"""The official SDK's asyncio client drives the same operations."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from tests.support.shop import Account, open_account
from tests.support.stack import Stack

from .test_message_errors import in_future

NUMBERS = itertools.count(181)


@pytest.fixture
async def async_client(api_stack: Stack) -> AsyncIterator[tuple[Client, Account]]:
    account = await open_account(
        api_stack, "Async Shoes", f"+1714555{next(NUMBERS):04d}"
    )
    http = AsyncTwilioHttpClient()
    client = Client(account.sid, account.token, http_client=http)
    client.api.base_url = api_stack.api_url
    client.messaging.base_url = api_stack.api_url
    yield client, account
    await http.close()


async def test_async_client_runs_the_message_lifecycle(
    async_client: tuple[Client, Account],
) -> None:
    """Service, sender, create, schedule, list, cancel, redact and delete, async."""
    client, account = async_client
    service = await client.messaging.v1.services.create_async(friendly_name="Async")
    await client.messaging.v1.services(service.sid).phone_numbers.create_async(
        phone_number_sid=account.number_sid
    )
    plain = await client.messages.create_async(
        to="+15558675310", messaging_service_sid=service.sid, body="now"
    )
    assert plain.status == "accepted"
    later = await client.messages.create_async(
        to="+15558675310",
        messaging_service_sid=service.sid,
        body="later",
        schedule_type="fixed",
        send_at=in_future(3600),
    )
    assert later.status == "scheduled"
    listed = await client.messages.list_async(page_size=1)
    assert [m.sid for m in listed] == [later.sid, plain.sid]

    canceled = await client.messages(later.sid).update_async(status="canceled")
    assert canceled.status == "canceled"
    redacted = await client.messages(later.sid).update_async(body="")
    assert redacted.body == ""
    assert await client.messages(later.sid).delete_async() is True
    with pytest.raises(TwilioRestException) as missing:
        await client.messages(later.sid).fetch_async()
    assert (missing.value.status, missing.value.code) == (404, 20404)


async def test_async_client_manages_keys(async_client: tuple[Client, Account]) -> None:
    """Keys are created, fetched and deleted through the async client."""
    client, _ = async_client
    key = await client.new_keys.create_async(friendly_name="async")
    fetched = await client.keys(key.sid).fetch_async()
    assert fetched.friendly_name == "async"
    assert await client.keys(key.sid).delete_async() is True
