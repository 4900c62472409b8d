"""Keys and IncomingPhoneNumbers lists page the way Twilio's 2010 API does."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.support.shop import Account, admin, basic_auth, open_account, sdk_client
from tests.support.stack import Stack

EXTRA_NUMBERS = ("+17145550605", "+17145550606", "+17145550607", "+17145550608")


async def raw_list(
    stack: Stack, account: Account, resource: str, query: str
) -> tuple[int, dict[str, Any]]:
    """Status and JSON of ``GET /2010-04-01/Accounts/{sid}/<resource>.json?<query>``."""
    url = f"{stack.api_url}/2010-04-01/Accounts/{account.sid}/{resource}.json?{query}"
    async with (
        aiohttp.ClientSession(headers=basic_auth(account.sid, account.token)) as s,
        s.get(url) as reply,
    ):
        return reply.status, await reply.json()


@pytest.fixture(scope="module")
async def key_owner(api_stack: Stack) -> tuple[Account, list[str]]:
    """An account with five API keys, and their SIDs in creation order."""
    account = await open_account(api_stack, "Key Pager", "+17145550603")
    client = sdk_client(api_stack, account.sid, account.token)
    sids = [
        (await asyncio.to_thread(client.new_keys.create, friendly_name=f"k{i}")).sid
        for i in range(5)
    ]
    return account, sids


@pytest.fixture(scope="module")
async def number_owner(api_stack: Stack) -> tuple[Account, list[str]]:
    """An account with five numbers, and the numbers in registration order."""
    account = await open_account(api_stack, "Number Pager", "+17145550604")
    for number in EXTRA_NUMBERS:
        await admin(
            api_stack,
            "add-number",
            "--account-sid",
            account.sid,
            "--phone-number",
            number,
        )
    return account, [account.number, *EXTRA_NUMBERS]


async def test_keys_page_over_three_pages(
    api_stack: Stack, key_owner: tuple[Account, list[str]]
) -> None:
    """The SDK follows ``next_page_uri`` over three pages of keys, oldest first."""
    account, sids = key_owner
    keys = (
        sdk_client(api_stack, account.sid, account.token)
        .api.v2010.accounts(account.sid)
        .keys
    )
    first = await asyncio.to_thread(keys.page, page_size=2)
    second = await asyncio.to_thread(first.next_page)
    third = await asyncio.to_thread(second.next_page)
    assert [[k.sid for k in page] for page in (first, second, third)] == [
        sids[0:2],
        sids[2:4],
        sids[4:],
    ]
    assert await asyncio.to_thread(third.next_page) is None
    listed = await asyncio.to_thread(keys.list, page_size=2)
    assert [k.sid for k in listed] == sids
    streamed = await asyncio.to_thread(lambda: list(keys.stream(page_size=2, limit=3)))
    assert [k.sid for k in streamed] == sids[:3]


async def test_numbers_page_over_three_pages(
    api_stack: Stack, number_owner: tuple[Account, list[str]]
) -> None:
    """The SDK lists and streams numbers two at a time, in registration order."""
    account, numbers = number_owner
    incoming = (
        sdk_client(api_stack, account.sid, account.token)
        .api.v2010.accounts(account.sid)
        .incoming_phone_numbers
    )
    first = await asyncio.to_thread(incoming.page, page_size=2)
    second = await asyncio.to_thread(first.next_page)
    third = await asyncio.to_thread(second.next_page)
    assert [len(list(page)) for page in (first, second, third)] == [2, 2, 1]
    assert await asyncio.to_thread(third.next_page) is None
    listed = await asyncio.to_thread(incoming.list, page_size=2)
    assert [n.phone_number for n in listed] == numbers
    streamed = await asyncio.to_thread(lambda: list(incoming.stream(page_size=2)))
    assert [n.phone_number for n in streamed] == numbers


async def test_envelope_links_the_next_page_by_token(
    api_stack: Stack, number_owner: tuple[Account, list[str]]
) -> None:
    """Each page says where it starts and ends; the last has no next page."""
    account, numbers = number_owner
    path = f"/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers.json"
    status, first = await raw_list(
        api_stack, account, "IncomingPhoneNumbers", "PageSize=2"
    )
    assert status == 200
    assert first["first_page_uri"] == f"{path}?PageSize=2&Page=0"
    assert first["next_page_uri"].startswith(f"{path}?PageSize=2&Page=1&PageToken=PA")
    assert (first["page"], first["page_size"], first["start"], first["end"]) == (
        0,
        2,
        0,
        1,
    )
    query = first["next_page_uri"].split("?", 1)[1]
    _, second = await raw_list(api_stack, account, "IncomingPhoneNumbers", query)
    assert [n["phone_number"] for n in second["incoming_phone_numbers"]] == numbers[2:4]
    assert (second["page"], second["start"], second["end"]) == (1, 2, 3)
    _, last = await raw_list(
        api_stack, account, "IncomingPhoneNumbers", "PageSize=2&Page=2"
    )
    assert [n["phone_number"] for n in last["incoming_phone_numbers"]] == numbers[4:]
    assert last["next_page_uri"] is None
    assert (last["start"], last["end"]) == (4, 4)


async def test_next_page_holds_when_an_earlier_key_goes(api_stack: Stack) -> None:
    """A key deleted from page one does not pull page two's first key onto it."""
    account = await open_account(api_stack, "Key Deleter", "+17145550610")
    client = sdk_client(api_stack, account.sid, account.token)
    sids = [
        (await asyncio.to_thread(client.new_keys.create, friendly_name=f"d{i}")).sid
        for i in range(4)
    ]
    keys = client.api.v2010.accounts(account.sid).keys
    first = await asyncio.to_thread(keys.page, page_size=2)
    assert await asyncio.to_thread(keys(sids[0]).delete) is True
    second = await asyncio.to_thread(first.next_page)
    assert [k.sid for k in second] == sids[2:4]


@pytest.mark.parametrize(
    "query", ["PageSize=0", "PageSize=1001", "PageSize=two", "PageToken=PAnot-a-token"]
)
@pytest.mark.parametrize("resource", ["Keys", "IncomingPhoneNumbers"])
async def test_bad_paging_is_refused(
    api_stack: Stack, key_owner: tuple[Account, list[str]], resource: str, query: str
) -> None:
    """A PageSize outside 1 to 1000 or a forged PageToken answers 400 (20001)."""
    account, _ = key_owner
    status, body = await raw_list(api_stack, account, resource, query)
    assert (status, body["code"], body["status"]) == (400, 20001, 400)
