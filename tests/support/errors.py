"""Calling the Twilio SDK and catching the error it raises."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from twilio.base.exceptions import TwilioRestException


async def rest_error(call: Callable[..., Any], **params: Any) -> TwilioRestException:
    """Run a synchronous SDK call that must fail; return its exception."""
    with pytest.raises(TwilioRestException) as caught:
        await asyncio.to_thread(call, **params)
    return caught.value


def assert_twilio_error(error: TwilioRestException, code: int, status: int) -> None:
    assert (error.code, error.status) == (code, status), error.msg
