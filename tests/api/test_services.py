"""Messaging Services (v1) through the official SDK, sync and async."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from tests.support.async_sdk import async_rest_error, async_sdk_client
from tests.support.errors import assert_twilio_error, rest_error
from tests.support.shop import Account, basic_auth, open_account, sdk_client
from tests.support.stack import Stack

CALLBACK = "https://hooks.example.com/status"


async def list_page(stack: Stack, account: Account, query: str) -> dict[str, Any]:
    """The raw JSON of ``GET /v1/Services?<query>``."""
    url = f"{stack.api_url}/v1/Services?{query}"
    async with (
        aiohttp.ClientSession(headers=basic_auth(account.sid, account.token)) as s,
        s.get(url) as reply,
    ):
        assert reply.status == 200
        body: dict[str, Any] = await reply.json()
    return body


async def test_service_is_created_with_its_settings(
    api_stack: Stack, shop: Account
) -> None:
    """The four settings sent on create come back on create and on fetch."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    created = await asyncio.to_thread(
        client.messaging.v1.services.create,
        friendly_name="Reminders",
        status_callback=CALLBACK,
        validity_period=600,
        sticky_sender=False,
        usecase="marketing",
    )
    fetched = await asyncio.to_thread(client.messaging.v1.services(created.sid).fetch)
    for service in (created, fetched):
        assert service.sid.startswith("MG")
        assert (service.account_sid, service.friendly_name) == (shop.sid, "Reminders")
        assert service.status_callback == CALLBACK
        assert (service.validity_period, service.sticky_sender) == (600, False)
        assert service.usecase == "marketing"
        assert service.url == f"{api_stack.api_url}/v1/Services/{created.sid}"
    assert fetched.date_created == created.date_created


async def test_service_defaults(api_stack: Stack, shop: Account) -> None:
    """Without settings a service has Twilio's defaults and ISO 8601 dates."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create, friendly_name="Plain"
    )
    assert service.status_callback is None
    assert (service.validity_period, service.sticky_sender) == (36000, True)
    assert service.usecase == "undeclared"
    assert isinstance(service.date_created, datetime)
    assert service.date_created.tzinfo == UTC
    assert service.links["phone_numbers"] == f"{service.url}/PhoneNumbers"


async def test_update_changes_only_the_given_fields(
    api_stack: Stack, shop: Account
) -> None:
    """An update rewrites what it names and keeps every other setting."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create,
        friendly_name="Before",
        validity_period=900,
        usecase="marketing",
    )
    updated = await asyncio.to_thread(
        client.messaging.v1.services(service.sid).update,
        friendly_name="After",
        status_callback=CALLBACK,
        sticky_sender=False,
    )
    fetched = await asyncio.to_thread(client.messaging.v1.services(service.sid).fetch)
    for current in (updated, fetched):
        assert (current.friendly_name, current.status_callback) == ("After", CALLBACK)
        assert current.sticky_sender is False
        assert (current.validity_period, current.usecase) == (900, "marketing")


async def test_empty_validity_period_is_not_given(
    api_stack: Stack, shop: Account
) -> None:
    """``ValidityPeriod=`` keeps the default on create, the value on update."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    services = client.messaging.v1.services
    plain = await asyncio.to_thread(
        services.create, friendly_name="Empty validity", validity_period=""
    )
    assert plain.validity_period == 36000
    timed = await asyncio.to_thread(
        services.create, friendly_name="Timed", validity_period=900
    )
    updated = await asyncio.to_thread(
        services(timed.sid).update, validity_period="", friendly_name="Still timed"
    )
    fetched = await asyncio.to_thread(services(timed.sid).fetch)
    for current in (updated, fetched):
        assert (current.friendly_name, current.validity_period) == ("Still timed", 900)


async def test_update_clears_the_status_callback(
    api_stack: Stack, shop: Account
) -> None:
    """An empty StatusCallback removes the service's callback."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create,
        friendly_name="Hooked",
        status_callback=CALLBACK,
    )
    updated = await asyncio.to_thread(
        client.messaging.v1.services(service.sid).update, status_callback=""
    )
    assert updated.status_callback is None
    assert updated.friendly_name == "Hooked"


async def test_deleted_service_is_gone(api_stack: Stack, shop: Account) -> None:
    """Delete answers 204; fetching or deleting it again is 20404."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create, friendly_name="Short-lived"
    )
    context = client.messaging.v1.services(service.sid)
    assert await asyncio.to_thread(context.delete) is True
    assert_twilio_error(await rest_error(context.fetch), 20404, 404)
    assert_twilio_error(await rest_error(context.delete), 20404, 404)


async def test_list_meta_has_absolute_urls(api_stack: Stack) -> None:
    """The v1 ``meta`` envelope names its key and links pages on this host."""
    account = await open_account(api_stack, "Meta Reader", "+17145550401")
    client = sdk_client(api_stack, account.sid, account.token)
    for name in ("one", "two", "three"):
        await asyncio.to_thread(client.messaging.v1.services.create, friendly_name=name)
    base = f"{api_stack.api_url}/v1/Services?PageSize=2"

    first = await list_page(api_stack, account, "PageSize=2")
    assert set(first) == {"services", "meta"}
    assert [s["friendly_name"] for s in first["services"]] == ["one", "two"]
    assert first["meta"] == {
        "page": 0,
        "page_size": 2,
        "first_page_url": f"{base}&Page=0",
        "previous_page_url": None,
        "next_page_url": f"{base}&Page=1",
        "url": f"{base}&Page=0",
        "key": "services",
    }
    last = await list_page(api_stack, account, "PageSize=2&Page=1")
    assert [s["friendly_name"] for s in last["services"]] == ["three"]
    assert last["meta"]["previous_page_url"] == f"{base}&Page=0"
    assert last["meta"]["next_page_url"] is None


async def test_list_pages_through_every_service(api_stack: Stack) -> None:
    """The SDK follows ``next_page_url`` over three pages, oldest first."""
    account = await open_account(api_stack, "Service Lister", "+17145550402")
    client = sdk_client(api_stack, account.sid, account.token)
    services = client.messaging.v1.services
    created = [
        (await asyncio.to_thread(services.create, friendly_name=f"s{i}")).sid
        for i in range(5)
    ]
    first = await asyncio.to_thread(services.page, page_size=2)
    second = await asyncio.to_thread(first.next_page)
    third = await asyncio.to_thread(second.next_page)
    assert [[s.sid for s in page] for page in (first, second, third)] == [
        created[0:2],
        created[2:4],
        created[4:],
    ]
    assert await asyncio.to_thread(third.next_page) is None
    listed = await asyncio.to_thread(services.list, page_size=2)
    assert [s.sid for s in listed] == created


async def test_another_accounts_services_are_not_listed(api_stack: Stack) -> None:
    """A list shows only the caller's services."""
    owner = await open_account(api_stack, "Service Owner", "+17145550403")
    other = await open_account(api_stack, "Service Other", "+17145550404")
    await asyncio.to_thread(
        sdk_client(api_stack, owner.sid, owner.token).messaging.v1.services.create,
        friendly_name="Mine",
    )
    theirs = sdk_client(api_stack, other.sid, other.token)
    assert await asyncio.to_thread(theirs.messaging.v1.services.list) == []


INVALID_SETTINGS: list[tuple[str, dict[str, Any], int]] = [
    ("ValidityPeriod zero", {"validity_period": 0}, 90007),
    ("ValidityPeriod above 36000", {"validity_period": 36001}, 90007),
    ("ValidityPeriod not a number", {"validity_period": "soon"}, 90007),
    ("Usecase unknown", {"usecase": "spam"}, 20001),
    ("StatusCallback not a URL", {"status_callback": "callback"}, 21609),
    (
        "StatusCallback host with underscore",
        {"status_callback": "https://bad_host.example.com/cb"},
        21609,
    ),
    ("StickySender not a boolean", {"sticky_sender": "maybe"}, 20001),
    ("InboundMethod not GET or POST", {"inbound_method": "PUT"}, 20001),
    ("ScanMessageContent unknown", {"scan_message_content": "always"}, 20001),
    ("FriendlyName too long", {"friendly_name": "x" * 65}, 20001),
]
INVALID_CREATES: list[tuple[str, dict[str, Any], int]] = [
    ("FriendlyName missing", {"friendly_name": None}, 20001),
    ("FriendlyName empty", {"friendly_name": ""}, 20001),
    *INVALID_SETTINGS,
]


@pytest.fixture(scope="module")
async def strict(api_stack: Stack) -> Account:
    """An account whose every create attempt is refused."""
    return await open_account(api_stack, "Strict", "+17145550405")


@pytest.mark.parametrize(
    ("case", "params", "code"), INVALID_CREATES, ids=[c[0] for c in INVALID_CREATES]
)
async def test_invalid_create_is_refused(
    api_stack: Stack, strict: Account, case: str, params: dict[str, Any], code: int
) -> None:
    """Each bad create answers 400 with its code and leaves no service behind."""
    client = sdk_client(api_stack, strict.sid, strict.token)
    error = await rest_error(
        client.messaging.v1.services.create, **{"friendly_name": "Bad", **params}
    )
    assert_twilio_error(error, code, 400)
    assert await asyncio.to_thread(client.messaging.v1.services.list) == []


@pytest.mark.parametrize(
    ("case", "params", "code"),
    [*INVALID_SETTINGS, ("FriendlyName empty", {"friendly_name": ""}, 20001)],
    ids=[c[0] for c in INVALID_SETTINGS] + ["FriendlyName empty"],
)
async def test_invalid_update_is_refused(
    api_stack: Stack, shop: Account, case: str, params: dict[str, Any], code: int
) -> None:
    """Each bad update answers 400 with its code and changes nothing."""
    client = sdk_client(api_stack, shop.sid, shop.token)
    service = await asyncio.to_thread(
        client.messaging.v1.services.create,
        friendly_name="Steady",
        validity_period=120,
    )
    context = client.messaging.v1.services(service.sid)
    error = await rest_error(context.update, **params)
    assert_twilio_error(error, code, 400)
    kept = await asyncio.to_thread(context.fetch)
    assert (kept.friendly_name, kept.validity_period) == ("Steady", 120)
    assert (kept.sticky_sender, kept.status_callback) == (True, None)


@pytest.mark.parametrize("sid", ["MG123", "MG" + "g" * 32, "PN" + "0" * 32])
async def test_malformed_service_sid_is_not_found(
    api_stack: Stack, shop: Account, sid: str
) -> None:
    """A path SID that is not a service SID is 20404 for fetch, update, delete."""
    context = sdk_client(api_stack, shop.sid, shop.token).messaging.v1.services(sid)
    assert_twilio_error(await rest_error(context.fetch), 20404, 404)
    assert_twilio_error(await rest_error(context.update, friendly_name="x"), 20404, 404)
    assert_twilio_error(await rest_error(context.delete), 20404, 404)


async def test_another_accounts_service_is_not_found(
    api_stack: Stack, shop: Account, rival: Account
) -> None:
    """Another account's service is 20404 to fetch, update or delete, and survives."""
    owner = sdk_client(api_stack, rival.sid, rival.token)
    service = await asyncio.to_thread(
        owner.messaging.v1.services.create, friendly_name="Rival's"
    )
    context = sdk_client(api_stack, shop.sid, shop.token).messaging.v1.services(
        service.sid
    )
    assert_twilio_error(await rest_error(context.fetch), 20404, 404)
    assert_twilio_error(
        await rest_error(context.update, friendly_name="Taken"), 20404, 404
    )
    assert_twilio_error(await rest_error(context.delete), 20404, 404)
    kept = await asyncio.to_thread(owner.messaging.v1.services(service.sid).fetch)
    assert kept.friendly_name == "Rival's"


async def test_async_client_runs_the_service_lifecycle(api_stack: Stack) -> None:
    """Create, fetch, update, page through and delete services, async."""
    account = await open_account(api_stack, "Async Services", "+17145550406")
    async with async_sdk_client(api_stack, account.sid, account.token) as client:
        services = client.messaging.v1.services
        created = [
            await services.create_async(friendly_name=f"a{i}", validity_period=60)
            for i in range(5)
        ]
        updated = await services(created[0].sid).update_async(
            status_callback=CALLBACK, usecase="notifications", sticky_sender=False
        )
        assert (updated.status_callback, updated.usecase) == (CALLBACK, "notifications")
        fetched = await services(created[0].sid).fetch_async()
        assert (fetched.validity_period, fetched.sticky_sender) == (60, False)

        first = await services.page_async(page_size=2)
        second = await first.next_page_async()
        third = await second.next_page_async()
        assert [len(list(p)) for p in (first, second, third)] == [2, 2, 1]
        assert await third.next_page_async() is None
        listed = await services.list_async(page_size=2)
        assert [s.sid for s in listed] == [s.sid for s in created]

        assert await services(created[0].sid).delete_async() is True
        gone = await async_rest_error(services(created[0].sid).fetch_async())
        assert_twilio_error(gone, 20404, 404)


async def test_async_client_gets_service_errors(
    api_stack: Stack, shop: Account, rival: Account
) -> None:
    """Bad values and another account's service raise TwilioRestException, async."""
    theirs = await asyncio.to_thread(
        sdk_client(api_stack, rival.sid, rival.token).messaging.v1.services.create,
        friendly_name="Not yours",
    )
    async with async_sdk_client(api_stack, shop.sid, shop.token) as client:
        services = client.messaging.v1.services
        invalid = await async_rest_error(
            services.create_async(friendly_name="Bad", validity_period=36001)
        )
        assert_twilio_error(invalid, 90007, 400)
        unknown = await async_rest_error(services(theirs.sid).fetch_async())
        assert_twilio_error(unknown, 20404, 404)
        malformed = await async_rest_error(services("MG123").delete_async())
        assert_twilio_error(malformed, 20404, 404)
