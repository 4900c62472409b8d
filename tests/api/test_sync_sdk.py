"""Redaction, trespass, rate limits and key updates as the sync SDK sees them."""

from __future__ import annotations

import asyncio

from tests.support.async_sdk import async_rest_error, async_sdk_client
from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import Account, open_account, sdk_client
from tests.support.stack import Stack

from . import test_safe_retries
from .test_message_errors import make_service, schedule_in_an_hour

RECIPIENT = "+15558675310"

limited_stack = test_safe_retries.limited_stack


async def test_redaction_keeps_everything_but_the_body(
    api_stack: Stack, shop: Account
) -> None:
    """``update(body="")`` empties a canceled message's body and nothing else."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    service_sid = await make_service(api_stack, shop)
    message = await schedule_in_an_hour(client, service_sid, "PIN 4821")
    await asyncio.to_thread(client.messages(message.sid).update, status="canceled")
    redacted = await asyncio.to_thread(client.messages(message.sid).update, body="")
    fetched = await asyncio.to_thread(client.messages(message.sid).fetch)
    for current in (redacted, fetched):
        assert (current.sid, current.body) == (message.sid, "")
        assert (current.to, current.messaging_service_sid) == (RECIPIENT, service_sid)
        assert current.status == "canceled"


async def test_another_accounts_message_cannot_be_redacted_or_deleted(
    api_stack: Stack, shop: Account, rival: Account
) -> None:
    """Redact and delete of another account's message are 20404; it survives.

    The message is canceled first, so its owner could delete it.
    """
    owner = sdk_client(api_stack, rival.sid, rival.token)
    service_sid = await make_service(api_stack, rival)
    message = await schedule_in_an_hour(owner, service_sid, "rival's")
    await asyncio.to_thread(owner.messages(message.sid).update, status="canceled")
    trespasser = sdk_client(api_stack, shop.sid, shop.token).messages(message.sid)
    redacted = await rest_error(trespasser.update, body="")
    assert_twilio_error(redacted, 20404, 404)
    deleted = await rest_error(trespasser.delete)
    assert_twilio_error(deleted, 20404, 404)
    kept = await asyncio.to_thread(owner.messages(message.sid).fetch)
    assert kept.body == "rival's"


async def test_flooding_raises_20429_in_the_sync_client(limited_stack: Stack) -> None:
    """Past the burst of three, the sync SDK raises 20429 with status 429."""
    account = await open_account(limited_stack, "Sync Flooder", "+17145550521")
    client = sdk_client(limited_stack, account.sid, account.token)
    services = client.messaging.v1.services
    for name in ("one", "two", "three"):
        await asyncio.to_thread(services.create, friendly_name=name)
    error = await rest_error(services.create, friendly_name="four")
    assert_twilio_error(error, 20429, 429)


async def test_flooding_raises_20429_in_the_async_client(
    limited_stack: Stack,
) -> None:
    """Past the burst of three, the async SDK raises 20429 with status 429."""
    account = await open_account(limited_stack, "Async Flooder", "+17145550522")
    async with async_sdk_client(limited_stack, account.sid, account.token) as client:
        context = client.messages("SM" + "0" * 32)
        for _ in range(3):
            missing = await async_rest_error(context.fetch_async())
            assert_twilio_error(missing, 20404, 404)
        error = await async_rest_error(context.fetch_async())
    assert_twilio_error(error, 20429, 429)


async def test_key_update_without_a_name_keeps_it(api_stack: Stack) -> None:
    """An update that sends no FriendlyName leaves the key's name as it was."""
    account = await open_account(api_stack, "Key Keeper", "+17145550523")
    client = sdk_client(api_stack, account.sid, account.token)
    key = await asyncio.to_thread(client.new_keys.create, friendly_name="deploy")
    updated = await asyncio.to_thread(client.keys(key.sid).update)
    fetched = await asyncio.to_thread(client.keys(key.sid).fetch)
    assert (updated.friendly_name, fetched.friendly_name) == ("deploy", "deploy")
