"""The official SDK's asyncio client, pointed at a stack, and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from .stack import Stack


@asynccontextmanager
async def async_sdk_client(
    stack: Stack, username: str, password: str, account_sid: str | None = None
) -> AsyncIterator[Client]:
    """A ``Client`` on ``AsyncTwilioHttpClient``; its session closes on exit."""
    http = AsyncTwilioHttpClient()
    client = Client(username, password, account_sid, http_client=http)
    client.api.base_url = stack.api_url
    client.messaging.base_url = stack.api_url
    try:
        yield client
    finally:
        await http.close()


async def async_rest_error(call: Awaitable[Any]) -> TwilioRestException:
    """Await an SDK call that must fail; return its exception."""
    with pytest.raises(TwilioRestException) as caught:
        await call
    return caught.value
