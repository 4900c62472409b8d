"""Credentials: HTTP Basic with the account SID and auth token, nothing less."""

from __future__ import annotations

import aiohttp
import pytest

from tests.support.shop import Account, basic_auth
from tests.support.stack import Stack


async def get(
    stack: Stack, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(stack.api_url + path, headers=headers) as reply,
    ):
        return reply.status, await reply.json()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer abc"},
        {"Authorization": "Basic !!!not-base64!!!"},
        {"Authorization": "Basic " + "bm8tY29sb24="},
    ],
    ids=["absent", "wrong scheme", "not base64", "no colon"],
)
async def test_malformed_credentials_are_refused(
    api_stack: Stack, shop: Account, headers: dict[str, str]
) -> None:
    """Missing or malformed credentials answer 401 with code 20003."""
    status, body = await get(api_stack, "/v1/Services", headers)
    assert status == 401
    assert body["code"] == 20003
    assert body["more_info"] == "https://www.twilio.com/docs/errors/20003"


async def test_wrong_token_is_refused(api_stack: Stack, shop: Account) -> None:
    """The right SID with a wrong token answers 401 (20003)."""
    status, body = await get(api_stack, "/v1/Services", basic_auth(shop.sid, "0" * 32))
    assert (status, body["code"]) == (401, 20003)


async def test_unknown_account_is_refused(api_stack: Stack, shop: Account) -> None:
    """A well-formed but unknown account SID answers 401 (20003)."""
    status, body = await get(
        api_stack, "/v1/Services", basic_auth("AC" + "0" * 32, shop.token)
    )
    assert (status, body["code"]) == (401, 20003)


async def test_another_accounts_path_is_not_found(
    api_stack: Stack, shop: Account, rival: Account
) -> None:
    """Listing under another account's path is a 404, never that account's data."""
    path = f"/2010-04-01/Accounts/{rival.sid}/Messages/SM{'0' * 32}.json"
    status, body = await get(api_stack, path, basic_auth(shop.sid, shop.token))
    assert (status, body["code"]) == (404, 20404)


async def test_unknown_route_answers_in_twilio_shape(
    api_stack: Stack, shop: Account
) -> None:
    """An unknown path answers Twilio's JSON 404, with every field of the shape."""
    status, body = await get(
        api_stack, "/v1/Nothing/Here", basic_auth(shop.sid, shop.token)
    )
    assert status == 404
    assert set(body) == {"code", "message", "more_info", "status"}
    assert body["status"] == 404
