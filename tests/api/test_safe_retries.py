"""Retried creates with an idempotency token, and the per-account rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support.shop import Account, basic_auth, open_account
from tests.support.stack import Stack, api_only

from .test_message_errors import make_service


async def create(
    stack: Stack, account: Account, service_sid: str, headers: dict[str, str]
) -> tuple[int, dict[str, object]]:
    url = f"{stack.api_url}/2010-04-01/Accounts/{account.sid}/Messages.json"
    form = {"To": "+15558675310", "MessagingServiceSid": service_sid, "Body": "once"}
    auth = basic_auth(account.sid, account.token)
    async with (
        aiohttp.ClientSession(headers=auth) as session,
        session.post(url, data=form, headers=headers) as reply,
    ):
        return reply.status, await reply.json()


async def count_messages(stack: Stack, account: Account) -> int:
    url = f"{stack.api_url}/2010-04-01/Accounts/{account.sid}/Messages.json"
    async with (
        aiohttp.ClientSession(headers=basic_auth(account.sid, account.token)) as s,
        s.get(url) as reply,
    ):
        return len((await reply.json())["messages"])


async def test_same_token_returns_the_first_message(api_stack: Stack) -> None:
    """Eight concurrent creates with one token make one message, all told its SID."""
    account = await open_account(api_stack, "Retrier", "+17145550141")
    service_sid = await make_service(api_stack, account)
    headers = {"I-Twilio-Idempotency-Token": "order-1042"}
    replies = await asyncio.gather(
        *(create(api_stack, account, service_sid, headers) for _ in range(8))
    )
    assert {status for status, _ in replies} == {201}
    assert len({body["sid"] for _, body in replies}) == 1
    assert await count_messages(api_stack, account) == 1


async def test_different_tokens_make_different_messages(api_stack: Stack) -> None:
    """Tokens are per request: two tokens, two messages; no token, a new one."""
    account = await open_account(api_stack, "Distinct", "+17145550142")
    service_sid = await make_service(api_stack, account)
    for headers in (
        {"I-Twilio-Idempotency-Token": "a"},
        {"I-Twilio-Idempotency-Token": "b"},
        {},
    ):
        status, _ = await create(api_stack, account, service_sid, headers)
        assert status == 201
    assert await count_messages(api_stack, account) == 3


@pytest.fixture(scope="module")
async def limited_stack(
    service_env: dict[str, str],
    admin_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """An API allowing three requests in a burst and one a minute after."""
    log_dir = tmp_path_factory.mktemp("limited-logs")
    limits = {"PIGEON_RATE_LIMIT_PER_S": "0.016", "PIGEON_RATE_LIMIT_BURST": "3"}
    async with api_only(service_env, admin_database_url, log_dir, limits) as stack:
        yield stack


async def test_flooding_account_gets_429(limited_stack: Stack) -> None:
    """Past its burst an account gets 429 (20429); another account is unaffected."""
    flooder = await open_account(limited_stack, "Flooder", "+17145550143")
    calm = await open_account(limited_stack, "Calm", "+17145550144")

    async def services(account: Account) -> tuple[int, dict[str, object]]:
        async with (
            aiohttp.ClientSession(headers=basic_auth(account.sid, account.token)) as s,
            s.get(f"{limited_stack.api_url}/v1/Services") as reply,
        ):
            return reply.status, await reply.json()

    statuses = [(await services(flooder))[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    status, body = await services(flooder)
    assert (status, body["code"], body["status"]) == (429, 20429, 429)
    assert (await services(calm))[0] == 200
