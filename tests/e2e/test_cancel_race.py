"""Canceling at the instant messages fall due: each is canceled or sent, never both."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import orjson

from tests.support.receiver import Receiver
from tests.support.shop import basic_auth, open_account
from tests.support.stack import Stack

RACERS = 60
LEAD = timedelta(seconds=5)


async def test_cancel_and_dispatch_race_safely(
    stack: Stack, receiver: Receiver
) -> None:
    """A cancel that wins means no carrier hand-over; one that loses answers 30409."""
    account = await open_account(stack, "Racer", "+17145550161")
    auth = basic_auth(account.sid, account.token)
    base = f"{stack.api_url}/2010-04-01/Accounts/{account.sid}/Messages"
    async with aiohttp.ClientSession(headers=auth) as session:
        service_sid = await _service_with_sender(session, stack, account.number_sid)
        send_at = (datetime.now(UTC) + LEAD).replace(microsecond=0)
        form = {
            "To": "+15558675310",
            "MessagingServiceSid": service_sid,
            "Body": "race",
            "ScheduleType": "fixed",
            "SendAt": send_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        sids = [await _create(session, f"{base}.json", form) for _ in range(RACERS)]
        await asyncio.sleep(max(send_at.timestamp() - time.time(), 0))
        outcomes = await asyncio.gather(
            *(_cancel(session, f"{base}/{sid}.json") for sid in sids)
        )
    canceled = {sid for sid, won in zip(sids, outcomes, strict=True) if won}
    lost = set(sids) - canceled
    delivered = await _wait_for_sids(receiver, lost)
    assert delivered >= lost
    assert not (delivered & canceled), "a canceled message reached the carrier"
    async with aiohttp.ClientSession(headers=auth) as session:
        for sid in sids:
            async with session.get(f"{base}/{sid}.json") as reply:
                status = (await reply.json())["status"]
            assert status == ("canceled" if sid in canceled else "sent"), sid


async def _service_with_sender(
    session: aiohttp.ClientSession, stack: Stack, number_sid: str
) -> str:
    async with session.post(
        f"{stack.api_url}/v1/Services", data={"FriendlyName": "race"}
    ) as reply:
        service_sid: str = (await reply.json())["sid"]
    async with session.post(
        f"{stack.api_url}/v1/Services/{service_sid}/PhoneNumbers",
        data={"PhoneNumberSid": number_sid},
    ) as reply:
        assert reply.status == 201
    return service_sid


async def _create(
    session: aiohttp.ClientSession, url: str, form: dict[str, str]
) -> str:
    async with session.post(url, data=form) as reply:
        body = await reply.json()
        assert reply.status == 201, body
        sid: str = body["sid"]
        return sid


async def _cancel(session: aiohttp.ClientSession, url: str) -> bool:
    """``True`` if the cancel won; ``False`` if it lost with 30409."""
    async with session.post(url, data={"Status": "canceled"}) as reply:
        body = await reply.json()
    if reply.status == 200:
        assert body["status"] == "canceled"
        return True
    assert (reply.status, body["code"]) == (400, 30409), body
    return False


async def _wait_for_sids(receiver: Receiver, wanted: set[str]) -> set[str]:
    """Every SID the carrier received, once all of ``wanted`` have arrived."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        seen = {orjson.loads(r.body)["sid"] for r in receiver.on("/carrier")}
        if wanted <= seen:
            # Give stragglers that should not exist a moment to show up.
            await asyncio.sleep(1)
            return {orjson.loads(r.body)["sid"] for r in receiver.on("/carrier")}
        await asyncio.sleep(0.1)
    return {orjson.loads(r.body)["sid"] for r in receiver.on("/carrier")}
