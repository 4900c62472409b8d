"""A Messaging Service cannot be deleted while messages through it wait to go."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
from twilio.base.exceptions import TwilioRestException

from libs.common import sids
from tests.support.errors import assert_twilio_error, rest_error
from tests.support.polling import until
from tests.support.shop import open_account, sdk_client
from tests.support.stack import Stack

from .test_message_errors import RECIPIENT, in_future, make_service


async def test_scheduled_messages_block_the_delete_until_canceled(
    api_stack: Stack,
) -> None:
    """Delete answers 400 naming the two scheduled messages; after cancel, 204."""
    account = await open_account(api_stack, "Scheduled Keeper", "+17145550601")
    service_sid = await make_service(api_stack, account)
    client = sdk_client(api_stack, account.sid, account.token)
    scheduled = [
        await asyncio.to_thread(
            client.messages.create,
            to=RECIPIENT,
            messaging_service_sid=service_sid,
            body="later",
            schedule_type="fixed",
            send_at=in_future(3600),
        )
        for _ in range(2)
    ]
    service = client.messaging.v1.services(service_sid)

    error = await rest_error(service.delete)
    assert_twilio_error(error, 20001, 400)
    assert "2 messages scheduled" in error.msg
    assert "Status=canceled" in error.msg
    assert (await asyncio.to_thread(service.fetch)).sid == service_sid
    for message in scheduled:
        kept = await asyncio.to_thread(client.messages(message.sid).fetch)
        assert (kept.status, kept.messaging_service_sid) == ("scheduled", service_sid)

    for message in scheduled:
        await asyncio.to_thread(client.messages(message.sid).update, status="canceled")
    assert await asyncio.to_thread(service.delete) is True
    assert_twilio_error(await rest_error(service.fetch), 20404, 404)


async def test_a_message_not_yet_sent_blocks_the_delete(api_stack: Stack) -> None:
    """A message waiting for its sender is counted; once sent, delete works."""
    account = await open_account(api_stack, "Queue Keeper", "+17145550602")
    service_sid = await make_service(api_stack, account)
    client = sdk_client(api_stack, account.sid, account.token)
    message = await asyncio.to_thread(
        client.messages.create,
        to=RECIPIENT,
        messaging_service_sid=service_sid,
        body="now",
    )
    service = client.messaging.v1.services(service_sid)
    error = await rest_error(service.delete)
    assert_twilio_error(error, 20001, 400)
    assert "1 message waiting to be sent" in error.msg

    conn = await asyncpg.connect(api_stack.settings.database_url)
    try:
        await conn.execute(
            "UPDATE messages SET status = 'sent', dispatch_state = 'done'"
            " WHERE sid = $1",
            message.sid,
        )
    finally:
        await conn.close()
    assert await asyncio.to_thread(service.delete) is True


async def delete_waits(
    watcher: asyncpg.Connection, pid: int, deleting: asyncio.Task[TwilioRestException]
) -> bool:
    """Whether the delete waits for a lock backend ``pid`` holds, or has answered."""
    if deleting.done():
        return True
    waiting: bool = await watcher.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity"
        " WHERE $1 = ANY(pg_blocking_pids(pid)))",
        pid,
    )
    return waiting


async def test_a_create_racing_the_delete_is_counted(api_stack: Stack) -> None:
    """A message inserted but not committed when the delete starts still stops it.

    The insert holds its foreign-key lock on the service; the delete waits for
    it, then counts the message the insert committed.
    """
    account = await open_account(api_stack, "Race Keeper", "+17145550611")
    service_sid = await make_service(api_stack, account)
    client = sdk_client(api_stack, account.sid, account.token)
    service = client.messaging.v1.services(service_sid)
    message_sid = sids.new_sid(sids.MESSAGE)
    url = api_stack.settings.database_url
    creator, watcher = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        async with creator.transaction():
            await creator.execute(
                "INSERT INTO messages (sid, account_sid, messaging_service_sid,"
                " to_address, body, status, send_at)"
                " VALUES ($1, $2, $3, $4, 'racing', 'scheduled', $5)",
                message_sid,
                account.sid,
                service_sid,
                RECIPIENT,
                datetime.now(UTC) + timedelta(hours=1),
            )
            deleting = asyncio.create_task(rest_error(service.delete))
            pid = creator.get_server_pid()
            await until(lambda: delete_waits(watcher, pid, deleting))
        error = await deleting
    finally:
        await creator.close()
        await watcher.close()

    assert_twilio_error(error, 20001, 400)
    assert "1 message scheduled" in error.msg
    kept = await asyncio.to_thread(client.messages(message_sid).fetch)
    assert kept.messaging_service_sid == service_sid
