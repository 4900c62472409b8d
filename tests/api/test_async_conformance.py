"""The SDK's asyncio client against every Messages operation and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from twilio.rest import Client

from tests.support.async_sdk import async_rest_error, async_sdk_client
from tests.support.errors import assert_twilio_error
from tests.support.shop import Account, admin, open_account
from tests.support.stack import Stack

from .test_message_errors import in_future

RECIPIENT = "+15558675310"
UNKNOWN_SERVICE = "MG" + "0" * 32


@dataclass(frozen=True)
class Sender:
    """An account on the async client, with a service that can send."""

    client: Client
    account: Account
    service_sid: str
    empty_service_sid: str


@pytest.fixture(scope="module")
async def sender(api_stack: Stack) -> AsyncIterator[Sender]:
    account = await open_account(api_stack, "Async Conformance", "+17145550301")
    async with async_sdk_client(api_stack, account.sid, account.token) as client:
        services = client.messaging.v1.services
        service = await services.create_async(friendly_name="Async pool")
        await services(service.sid).phone_numbers.create_async(
            phone_number_sid=account.number_sid
        )
        empty = await services.create_async(friendly_name="Async empty")
        yield Sender(client, account, service.sid, empty.sid)


async def schedule(sender: Sender, body: str = "later") -> Any:
    return await sender.client.messages.create_async(
        to=RECIPIENT,
        messaging_service_sid=sender.service_sid,
        body=body,
        schedule_type="fixed",
        send_at=in_future(3600),
    )


async def test_plain_create_is_fetched_back(sender: Sender) -> None:
    """A From-only create is ``queued``, and fetch returns the same message."""
    created = await sender.client.messages.create_async(
        to=RECIPIENT, from_=sender.account.number, body="hello"
    )
    assert created.status == "queued"
    fetched = await sender.client.messages(created.sid).fetch_async()
    assert (fetched.sid, fetched.account_sid) == (created.sid, sender.account.sid)
    assert (fetched.to, fetched.from_, fetched.body) == (
        RECIPIENT,
        sender.account.number,
        "hello",
    )
    assert (fetched.num_segments, fetched.date_created) == ("1", created.date_created)


async def test_create_through_a_service_is_accepted(sender: Sender) -> None:
    """A create naming a service is ``accepted`` and carries the service SID."""
    created = await sender.client.messages.create_async(
        to=RECIPIENT, messaging_service_sid=sender.service_sid, body="hi"
    )
    assert (created.status, created.messaging_service_sid) == (
        "accepted",
        sender.service_sid,
    )


async def test_scheduled_create_is_canceled(sender: Sender) -> None:
    """A scheduled message is unsent until canceled; then it reads ``canceled``."""
    created = await schedule(sender)
    assert (created.status, created.date_sent) == ("scheduled", None)
    canceled = await sender.client.messages(created.sid).update_async(status="canceled")
    assert (canceled.status, canceled.date_sent) == ("canceled", None)
    fetched = await sender.client.messages(created.sid).fetch_async()
    assert fetched.status == "canceled"


async def test_redaction_empties_the_body(sender: Sender) -> None:
    """``Body=""`` redacts a canceled message; fetch returns the empty body."""
    created = await schedule(sender, body="secret code 1234")
    await sender.client.messages(created.sid).update_async(status="canceled")
    redacted = await sender.client.messages(created.sid).update_async(body="")
    assert (redacted.sid, redacted.body) == (created.sid, "")
    fetched = await sender.client.messages(created.sid).fetch_async()
    assert fetched.body == ""


async def test_deleted_message_is_gone(sender: Sender) -> None:
    """A canceled message deletes with 204; fetching it afterwards is 20404."""
    created = await schedule(sender)
    await sender.client.messages(created.sid).update_async(status="canceled")
    assert await sender.client.messages(created.sid).delete_async() is True
    gone = await async_rest_error(sender.client.messages(created.sid).fetch_async())
    assert_twilio_error(gone, 20404, 404)


async def test_pages_follow_next_page_uri(api_stack: Stack) -> None:
    """Five messages over three pages of two, newest first, then no next page."""
    account = await open_account(api_stack, "Async Pager", "+17145550302")
    async with async_sdk_client(api_stack, account.sid, account.token) as client:
        created = [
            (
                await client.messages.create_async(
                    to=f"+1555867532{i}", from_=account.number, body=f"m{i}"
                )
            ).sid
            for i in range(5)
        ]
        first = await client.messages.page_async(page_size=2)
        second = await first.next_page_async()
        third = await second.next_page_async()
        assert await third.next_page_async() is None
        listed = await client.messages.list_async(page_size=2)
    newest_first = created[::-1]
    assert [[m.sid for m in page] for page in (first, second, third)] == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:],
    ]
    assert [m.sid for m in listed] == newest_first


async def test_incoming_phone_numbers(api_stack: Stack) -> None:
    """Numbers are listed, fetched, renamed and released through the async client."""
    account = await open_account(api_stack, "Async Numbers", "+17145550303")
    extra = await admin(
        api_stack,
        "add-number",
        "--account-sid",
        account.sid,
        "--phone-number",
        "+17145550304",
    )
    async with async_sdk_client(api_stack, account.sid, account.token) as client:
        numbers = client.api.v2010.accounts(account.sid).incoming_phone_numbers
        listed = await numbers.list_async()
        assert [n.phone_number for n in listed] == ["+17145550303", "+17145550304"]
        fetched = await client.incoming_phone_numbers(account.number_sid).fetch_async()
        assert (fetched.sid, fetched.phone_number) == (
            account.number_sid,
            "+17145550303",
        )
        renamed = await numbers(extra["sid"]).update_async(friendly_name="support")
        assert renamed.friendly_name == "support"
        assert await client.incoming_phone_numbers(extra["sid"]).delete_async() is True
        gone = await async_rest_error(numbers(extra["sid"]).fetch_async())
    assert_twilio_error(gone, 20404, 404)


async def test_service_sender_pool(sender: Sender) -> None:
    """A service's pool lists, fetches and loses a number, async."""
    services = sender.client.messaging.v1.services
    service = await services.create_async(friendly_name="Async pool check")
    pool = services(service.sid).phone_numbers
    added = await pool.create_async(phone_number_sid=sender.account.number_sid)
    assert (added.service_sid, added.phone_number) == (
        service.sid,
        sender.account.number,
    )
    assert [n.sid for n in await pool.list_async()] == [sender.account.number_sid]
    fetched = await pool(sender.account.number_sid).fetch_async()
    assert fetched.country_code == "US"
    assert await pool(sender.account.number_sid).delete_async() is True
    assert await pool.list_async() == []


async def test_keys(api_stack: Stack) -> None:
    """A key is created, listed, renamed, used and revoked through the async client."""
    account = await open_account(api_stack, "Async Keys", "+17145550305")
    async with async_sdk_client(api_stack, account.sid, account.token) as client:
        key = await client.new_keys.create_async(friendly_name="worker")
        assert [k.sid for k in await client.keys.list_async()] == [key.sid]
        renamed = await client.keys(key.sid).update_async(friendly_name="cron")
        assert (await client.keys(key.sid).fetch_async()).friendly_name == "cron"
        assert renamed.friendly_name == "cron"
        async with async_sdk_client(
            api_stack, key.sid, key.secret, account.sid
        ) as with_key:
            service = await with_key.messaging.v1.services.create_async(
                friendly_name="via key"
            )
            assert service.account_sid == account.sid
            assert await client.keys(key.sid).delete_async() is True
            revoked = await async_rest_error(
                with_key.messaging.v1.services.create_async(friendly_name="revoked")
            )
    assert_twilio_error(revoked, 20003, 401)


async def test_bad_credentials_are_refused(api_stack: Stack, sender: Sender) -> None:
    """A wrong auth token, or an unknown account, raises 20003 with status 401."""
    for username, password in (
        (sender.account.sid, "0" * 32),
        ("AC" + "0" * 32, sender.account.token),
    ):
        async with async_sdk_client(api_stack, username, password) as client:
            error = await async_rest_error(
                client.messages("SM" + "0" * 32).fetch_async()
            )
        assert_twilio_error(error, 20003, 401)


async def test_unknown_message_is_not_found(sender: Sender) -> None:
    """Fetch, cancel, redact and delete of an unknown message all raise 20404."""
    context = sender.client.messages("SM" + "0" * 32)
    for call in (
        context.fetch_async(),
        context.update_async(status="canceled"),
        context.update_async(body=""),
        context.delete_async(),
    ):
        assert_twilio_error(await async_rest_error(call), 20404, 404)


async def test_unscheduled_message_cannot_be_canceled(sender: Sender) -> None:
    """Canceling a message that is not scheduled raises 30409."""
    created = await sender.client.messages.create_async(
        to=RECIPIENT, messaging_service_sid=sender.service_sid, body="now"
    )
    error = await async_rest_error(
        sender.client.messages(created.sid).update_async(status="canceled")
    )
    assert_twilio_error(error, 30409, 400)


# Placeholders resolved per test: the account's number, its empty service, a
# SendAt inside the allowed window.
FROM, EMPTY, LATER = "<from>", "<empty>", "<later>"
CREATE_ERRORS: list[tuple[str, dict[str, Any], int]] = [
    ("impossible To", {"to": "+1 555"}, 21211),
    ("no content", {"body": None}, 21619),
    (
        "From not owned",
        {"messaging_service_sid": None, "from_": "+17145550998"},
        21606,
    ),
    ("unknown service", {"messaging_service_sid": UNKNOWN_SERVICE}, 21701),
    ("service without senders", {"messaging_service_sid": EMPTY}, 21704),
    ("ValidityPeriod zero", {"validity_period": 0}, 90007),
    ("SendAt missing", {"schedule_type": "fixed"}, 35111),
    (
        "SendAt in the past",
        {"schedule_type": "fixed", "send_at": "2020-01-01T00:00:00Z"},
        35114,
    ),
    (
        "scheduled without a service",
        {
            "messaging_service_sid": None,
            "from_": FROM,
            "schedule_type": "fixed",
            "send_at": LATER,
        },
        35118,
    ),
    ("ScheduleType unknown", {"schedule_type": "daily", "send_at": LATER}, 35126),
]


def create_params(sender: Sender, overrides: dict[str, Any]) -> dict[str, Any]:
    """A valid create through the service, with ``overrides`` applied."""
    placeholders = {
        FROM: sender.account.number,
        EMPTY: sender.empty_service_sid,
        LATER: in_future(3600),
    }
    params = {
        "to": RECIPIENT,
        "messaging_service_sid": sender.service_sid,
        "body": "hi",
        **overrides,
    }
    return {
        name: placeholders.get(value, value) if isinstance(value, str) else value
        for name, value in params.items()
        if value is not None
    }


@pytest.mark.parametrize(
    ("case", "overrides", "code"), CREATE_ERRORS, ids=[c[0] for c in CREATE_ERRORS]
)
async def test_invalid_create_raises_twilio_code(
    sender: Sender, case: str, overrides: dict[str, Any], code: int
) -> None:
    """Each refused create raises TwilioRestException with Twilio's code and 400."""
    params = create_params(sender, overrides)
    error = await async_rest_error(sender.client.messages.create_async(**params))
    assert_twilio_error(error, code, 400)
