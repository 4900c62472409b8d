"""An account's numbers and a service's sender pool, through the SDK."""

from __future__ import annotations

import asyncio

from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import admin, open_account, sdk_client
from tests.support.stack import Stack


async def test_incoming_numbers_are_listed_renamed_and_released(
    api_stack: Stack,
) -> None:
    """Numbers the operator registered appear as IncomingPhoneNumbers."""
    account = await open_account(api_stack, "Numbers", "+17145550131")
    second = await admin(
        api_stack,
        "add-number",
        "--account-sid",
        account.sid,
        "--phone-number",
        "(714) 555-0132",
    )
    assert second["phone_number"] == "+17145550132"
    client = sdk_client(api_stack, account.sid, account.token)
    listed = await asyncio.to_thread(client.incoming_phone_numbers.list)
    assert [n.phone_number for n in listed] == ["+17145550131", "+17145550132"]
    renamed = await asyncio.to_thread(
        client.incoming_phone_numbers(second["sid"]).update, friendly_name="support"
    )
    assert renamed.friendly_name == "support"
    assert await asyncio.to_thread(client.incoming_phone_numbers(second["sid"]).delete)
    gone = await rest_error(client.incoming_phone_numbers(second["sid"]).fetch)
    assert_twilio_error(gone, 20404, 404)


async def test_a_number_belongs_to_one_account(api_stack: Stack) -> None:
    """Another account's number can neither be fetched nor put in a pool."""
    owner = await open_account(api_stack, "Number Owner", "+17145550133")
    other = await open_account(api_stack, "Number Other", "+17145550134")
    client = sdk_client(api_stack, other.sid, other.token)
    error = await rest_error(client.incoming_phone_numbers(owner.number_sid).fetch)
    assert_twilio_error(error, 20404, 404)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create, friendly_name="Pool"
    )
    error = await rest_error(
        client.messaging.v1.services(service.sid).phone_numbers.create,
        phone_number_sid=owner.number_sid,
    )
    assert_twilio_error(error, 20404, 404)


async def test_service_sender_pool(api_stack: Stack) -> None:
    """Numbers join, are listed in, fetched from and leave a service's pool."""
    account = await open_account(api_stack, "Pool Keeper", "+17145550135")
    client = sdk_client(api_stack, account.sid, account.token)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create, friendly_name="Pool"
    )
    pool = client.messaging.v1.services(service.sid).phone_numbers
    added = await asyncio.to_thread(pool.create, phone_number_sid=account.number_sid)
    assert (added.sid, added.phone_number, added.country_code) == (
        account.number_sid,
        "+17145550135",
        "US",
    )
    listed = await asyncio.to_thread(pool.list)
    assert [n.sid for n in listed] == [account.number_sid]
    fetched = await asyncio.to_thread(pool(account.number_sid).fetch)
    assert fetched.service_sid == service.sid
    assert await asyncio.to_thread(pool(account.number_sid).delete)
    assert await asyncio.to_thread(pool.list) == []


async def test_number_friendly_name_is_at_most_64_characters(
    api_stack: Stack,
) -> None:
    """A 65-character FriendlyName is refused with 20002; 64 are kept."""
    account = await open_account(api_stack, "Long Names", "+17145550609")
    number = sdk_client(api_stack, account.sid, account.token).incoming_phone_numbers(
        account.number_sid
    )
    error = await rest_error(number.update, friendly_name="x" * 65)
    assert_twilio_error(error, 20002, 400)
    assert (await asyncio.to_thread(number.fetch)).friendly_name == "+17145550609"
    renamed = await asyncio.to_thread(number.update, friendly_name="y" * 64)
    assert renamed.friendly_name == "y" * 64
    assert (await asyncio.to_thread(number.fetch)).friendly_name == "y" * 64
