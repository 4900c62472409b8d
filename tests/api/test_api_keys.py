"""API keys: created with the auth token, usable instead of it, revocable."""

from __future__ import annotations

import asyncio

from twilio.rest import Client

from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import open_account, sdk_client
from tests.support.stack import Stack


def key_client(stack: Stack, account_sid: str, key_sid: str, secret: str) -> Client:
    client = Client(key_sid, secret, account_sid)
    client.api.base_url = stack.api_url
    client.messaging.base_url = stack.api_url
    return client


async def test_a_key_authenticates_as_its_account(api_stack: Stack) -> None:
    """A new key's secret works in place of the auth token, then stops on delete."""
    account = await open_account(api_stack, "Key Holder", "+17145550121")
    client = sdk_client(api_stack, account.sid, account.token)
    key = await asyncio.to_thread(client.new_keys.create, friendly_name="backend")
    assert key.sid.startswith("SK")
    assert len(key.secret) == 32
    with_key = key_client(api_stack, account.sid, key.sid, key.secret)
    service = await asyncio.to_thread(
        with_key.messaging.v1.services.create, friendly_name="via key"
    )
    assert service.account_sid == account.sid

    listed = await asyncio.to_thread(client.keys.list)
    assert [k.sid for k in listed] == [key.sid]
    assert not hasattr(listed[0], "secret") or listed[0].secret is None
    renamed = await asyncio.to_thread(client.keys(key.sid).update, friendly_name="api")
    assert renamed.friendly_name == "api"

    assert await asyncio.to_thread(client.keys(key.sid).delete) is True
    refused = await rest_error(
        with_key.messaging.v1.services.create, friendly_name="revoked"
    )
    assert_twilio_error(refused, 20003, 401)


async def test_a_key_cannot_manage_keys(api_stack: Stack) -> None:
    """Only the auth token may create or list keys (20403)."""
    account = await open_account(api_stack, "Careful", "+17145550122")
    client = sdk_client(api_stack, account.sid, account.token)
    key = await asyncio.to_thread(client.new_keys.create)
    with_key = key_client(api_stack, account.sid, key.sid, key.secret)
    error = await rest_error(with_key.new_keys.create)
    assert_twilio_error(error, 20403, 403)


async def test_a_key_is_scoped_to_its_account(api_stack: Stack) -> None:
    """A key cannot reach another account's resources or path."""
    owner = await open_account(api_stack, "Key Owner", "+17145550123")
    other = await open_account(api_stack, "Key Other", "+17145550124")
    key = await asyncio.to_thread(
        sdk_client(api_stack, owner.sid, owner.token).new_keys.create
    )
    trespasser = key_client(api_stack, other.sid, key.sid, key.secret)
    error = await rest_error(trespasser.messages("SM" + "0" * 32).fetch)
    assert_twilio_error(error, 20404, 404)


async def test_a_wrong_secret_is_refused(api_stack: Stack) -> None:
    """The key's SID with a wrong secret answers 401 (20003)."""
    account = await open_account(api_stack, "Guessed", "+17145550125")
    key = await asyncio.to_thread(
        sdk_client(api_stack, account.sid, account.token).new_keys.create
    )
    guesser = key_client(api_stack, account.sid, key.sid, "x" * 32)
    error = await rest_error(guesser.messages("SM" + "0" * 32).fetch)
    assert_twilio_error(error, 20003, 401)
