"""The per-account limit on scheduled messages (35125), alone and under a burst."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import Account, basic_auth, open_account, sdk_client
from tests.support.stack import Stack, api_only

from .test_message_errors import RECIPIENT, in_future, make_service

LIMIT = 2


@pytest.fixture(scope="module")
async def limited_stack(
    service_env: dict[str, str],
    admin_database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """An API allowing each account two scheduled messages at a time."""
    log_dir = tmp_path_factory.mktemp("schedule-limit-logs")
    limits = {"PIGEON_MAX_SCHEDULED_PER_ACCOUNT": str(LIMIT)}
    async with api_only(service_env, admin_database_url, log_dir, limits) as stack:
        yield stack


async def schedule(
    stack: Stack, account: Account, service_sid: str, token: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Schedule one message an hour ahead with a raw request."""
    url = f"{stack.api_url}/2010-04-01/Accounts/{account.sid}/Messages.json"
    form = {
        "To": RECIPIENT,
        "MessagingServiceSid": service_sid,
        "Body": "later",
        "ScheduleType": "fixed",
        "SendAt": in_future(3600),
    }
    headers = {"I-Twilio-Idempotency-Token": token} if token else {}
    async with (
        aiohttp.ClientSession(headers=basic_auth(account.sid, account.token)) as s,
        s.post(url, data=form, headers=headers) as reply,
    ):
        return reply.status, await reply.json()


async def test_the_limit_counts_scheduled_messages_only(limited_stack: Stack) -> None:
    """Past the limit scheduling answers 35125; sending now and canceling still work."""
    account = await open_account(limited_stack, "Planner", "+17145550161")
    service_sid = await make_service(limited_stack, account)
    client = sdk_client(limited_stack, account.sid, account.token)
    first, second = [await schedule(limited_stack, account, service_sid) for _ in "ab"]
    assert (first[0], second[0]) == (201, 201)
    status, body = await schedule(limited_stack, account, service_sid)
    assert (status, body["code"], body["status"]) == (400, 35125, 400)

    now = await asyncio.to_thread(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=service_sid,
        body="now",
    )
    assert now.status == "accepted"
    error = await rest_error(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=service_sid,
        body="later",
        schedule_type="fixed",
        send_at=in_future(3600),
    )
    assert_twilio_error(error, 35125, 400)

    await asyncio.to_thread(client.messages(first[1]["sid"]).update, status="canceled")
    status, _ = await schedule(limited_stack, account, service_sid)
    assert status == 201


async def test_a_burst_of_creates_does_not_overshoot(limited_stack: Stack) -> None:
    """Twenty concurrent scheduled creates: exactly two are accepted."""
    account = await open_account(limited_stack, "Burst", "+17145550162")
    service_sid = await make_service(limited_stack, account)
    replies = await asyncio.gather(
        *(schedule(limited_stack, account, service_sid) for _ in range(20))
    )
    statuses = sorted(status for status, _ in replies)
    assert statuses == [201] * LIMIT + [400] * (20 - LIMIT)
    assert {body["code"] for status, body in replies if status == 400} == {35125}
    client = sdk_client(limited_stack, account.sid, account.token)
    listed = await asyncio.to_thread(client.messages.list)
    assert [m.status for m in listed] == ["scheduled"] * LIMIT


async def test_retries_of_one_scheduled_create_count_once(limited_stack: Stack) -> None:
    """Six concurrent retries with one token make one message, leaving room for one."""
    account = await open_account(limited_stack, "Retrier", "+17145550163")
    service_sid = await make_service(limited_stack, account)
    replies = await asyncio.gather(
        *(schedule(limited_stack, account, service_sid, "plan-7") for _ in range(6))
    )
    assert {status for status, _ in replies} == {201}
    assert len({body["sid"] for _, body in replies}) == 1
    assert (await schedule(limited_stack, account, service_sid))[0] == 201
    assert (await schedule(limited_stack, account, service_sid))[0] == 400
