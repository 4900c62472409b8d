"""Listing messages through the SDK: filters, paging, stability, deletion."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import asyncpg
from twilio.rest import Client

from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import Account, open_account, sdk_client
from tests.support.stack import Stack

from .test_message_errors import in_future, make_service


async def test_pages_follow_next_page_uri_and_stay_stable(api_stack: Stack) -> None:
    """Seven messages over pages of three; new arrivals do not shift later pages."""
    account = await open_account(api_stack, "Lister", "+17145550111")
    service_sid = await make_service(api_stack, account)
    client = sdk_client(api_stack, account.sid, account.token)

    async def create(to: str) -> str:
        message = await asyncio.to_thread(
            client.messages.create, to=to, messaging_service_sid=service_sid, body="hi"
        )
        sid: str = message.sid
        return sid

    created = [await create(f"+1555867530{i}") for i in range(7)]
    first = await asyncio.to_thread(client.messages.page, page_size=3)
    assert [m.sid for m in first] == created[::-1][:3]
    newcomer = await create("+15558675399")
    second = await asyncio.to_thread(first.next_page)
    third = await asyncio.to_thread(second.next_page)
    assert [m.sid for m in second] == created[::-1][3:6]
    assert [m.sid for m in third] == created[::-1][6:]
    assert await asyncio.to_thread(third.next_page) is None

    everything = await asyncio.to_thread(client.messages.list, page_size=2)
    assert [m.sid for m in everything] == [newcomer, *created[::-1]]


async def test_list_filters_by_recipient(api_stack: Stack) -> None:
    """``To`` narrows the list to one recipient and survives paging."""
    account = await open_account(api_stack, "Filterer", "+17145550112")
    service_sid = await make_service(api_stack, account)
    client = sdk_client(api_stack, account.sid, account.token)
    for to in ("+15558675301", "+15558675302", "+15558675301", "+15558675301"):
        await asyncio.to_thread(
            client.messages.create, to=to, messaging_service_sid=service_sid, body="x"
        )
    found = await asyncio.to_thread(
        client.messages.list, to="+15558675301", page_size=1
    )
    assert len(found) == 3
    assert {m.to for m in found} == {"+15558675301"}


async def test_list_filters_by_sender_in_any_number_format(api_stack: Stack) -> None:
    """``From`` and ``To`` are read as phone numbers, as create reads them."""
    account = await open_account(api_stack, "Senders", "+17145550116")
    service_sid = await make_service(api_stack, account)
    client = sdk_client(api_stack, account.sid, account.token)
    for to in ("+15558675301", "+15558675302"):
        await asyncio.to_thread(
            client.messages.create, to=to, from_=account.number, body="x"
        )
    await asyncio.to_thread(
        client.messages.create,
        to="+15558675301",
        messaging_service_sid=service_sid,
        body="x",
    )
    found = await asyncio.to_thread(client.messages.list, from_="(714) 555-0116")
    assert sorted(m.to for m in found) == ["+15558675301", "+15558675302"]
    both = await asyncio.to_thread(
        client.messages.list, from_="+1 714 555 0116", to="555-867-5301"
    )
    assert [(m.from_, m.to) for m in both] == [(account.number, "+15558675301")]


# When each message of the date-filter tests was sent.
SENT = {
    "late on the 3rd": datetime(2026, 12, 3, 23, 59, 59, 500_000, tzinfo=UTC),
    "midnight of the 4th": datetime(2026, 12, 4, tzinfo=UTC),
    "noon of the 4th": datetime(2026, 12, 4, 12, tzinfo=UTC),
    "late on the 4th": datetime(2026, 12, 4, 23, 59, 59, 900_000, tzinfo=UTC),
    "midnight of the 5th": datetime(2026, 12, 5, tzinfo=UTC),
}


async def sent_messages(stack: Stack, account: Account) -> dict[str, str]:
    """One message per entry of ``SENT``, marked sent then, and one never sent."""
    service_sid = await make_service(stack, account)
    client = sdk_client(stack, account.sid, account.token)
    names = {}
    for name in [*SENT, "never sent"]:
        message = await asyncio.to_thread(
            client.messages.create,
            to="+15558675301",
            messaging_service_sid=service_sid,
            body=name,
        )
        names[message.sid] = name
    conn = await asyncpg.connect(stack.settings.database_url)
    try:
        await conn.executemany(
            "UPDATE messages SET status = 'sent', dispatch_state = 'done',"
            " date_sent = $2 WHERE sid = $1",
            [(sid, SENT[name]) for sid, name in names.items() if name in SENT],
        )
    finally:
        await conn.close()
    return names


async def listed(client: Client, names: dict[str, str], **params: object) -> set[str]:
    """The names of the messages a list with ``params`` returns."""
    found = await asyncio.to_thread(client.messages.list, **params)
    return {names[m.sid] for m in found}


async def test_date_sent_filters_cover_whole_days(api_stack: Stack) -> None:
    """A date, or the midnight the SDK sends for it, stands for that UTC day."""
    account = await open_account(api_stack, "Day lister", "+17145550117")
    names = await sent_messages(api_stack, account)
    client = sdk_client(api_stack, account.sid, account.token)

    fourth = {"midnight of the 4th", "noon of the 4th", "late on the 4th"}
    for day in (date(2026, 12, 4), datetime(2026, 12, 4), "2026-12-04"):
        assert await listed(client, names, date_sent=day) == fourth
        assert await listed(client, names, date_sent_before=day) == {
            "late on the 3rd",
            *fourth,
        }
        assert await listed(client, names, date_sent_after=day) == {
            *fourth,
            "midnight of the 5th",
        }


async def test_date_sent_bounds_with_a_time_are_instants(api_stack: Stack) -> None:
    """With a time of day, ``DateSent<`` and ``DateSent>`` bound at that instant."""
    account = await open_account(api_stack, "Instant lister", "+17145550118")
    names = await sent_messages(api_stack, account)
    client = sdk_client(api_stack, account.sid, account.token)

    noon = datetime(2026, 12, 4, 12)
    assert await listed(client, names, date_sent_before=noon) == {
        "late on the 3rd",
        "midnight of the 4th",
        "noon of the 4th",
    }
    assert await listed(client, names, date_sent_after=noon) == {
        "noon of the 4th",
        "late on the 4th",
        "midnight of the 5th",
    }
    assert await listed(client, names, date_sent=noon) == {
        "midnight of the 4th",
        "noon of the 4th",
        "late on the 4th",
    }


async def test_another_accounts_messages_are_not_listed(api_stack: Stack) -> None:
    """A list shows the caller's messages only."""
    owner = await open_account(api_stack, "Owner", "+17145550113")
    other = await open_account(api_stack, "Other", "+17145550114")
    service_sid = await make_service(api_stack, owner)
    own = sdk_client(api_stack, owner.sid, owner.token)
    await asyncio.to_thread(
        own.messages.create,
        to="+15558675301",
        messaging_service_sid=service_sid,
        body="x",
    )
    theirs = sdk_client(api_stack, other.sid, other.token)
    assert await asyncio.to_thread(theirs.messages.list) == []


async def test_a_canceled_message_can_be_deleted_but_not_a_pending_one(
    api_stack: Stack,
) -> None:
    """Delete answers 204 for a finished message and refuses one still to send."""
    account = await open_account(api_stack, "Deleter", "+17145550115")
    service_sid = await make_service(api_stack, account)
    client = sdk_client(api_stack, account.sid, account.token)
    pending = await asyncio.to_thread(
        client.messages.create,
        to="+15558675301",
        messaging_service_sid=service_sid,
        body="x",
    )
    error = await rest_error(client.messages(pending.sid).delete)
    assert_twilio_error(error, 20009, 400)
    scheduled = await asyncio.to_thread(
        client.messages.create,
        to="+15558675301",
        messaging_service_sid=service_sid,
        body="later",
        schedule_type="fixed",
        send_at=in_future(3600),
    )
    await asyncio.to_thread(client.messages(scheduled.sid).update, status="canceled")
    assert await asyncio.to_thread(client.messages(scheduled.sid).delete) is True
    gone = await rest_error(client.messages(scheduled.sid).fetch)
    assert_twilio_error(gone, 20404, 404)
