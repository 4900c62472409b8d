"""Typed application keys shared by the API's handlers."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from libs.common.crypto import KeyRing

from .settings import ApiSettings

SETTINGS = web.AppKey("settings", ApiSettings)
POOL = web.AppKey("pool", asyncpg.Pool)
KEYRING = web.AppKey("keyring", KeyRing)

ACCOUNT_SID = "account_sid"


def account_of(request: web.Request) -> str:
    """The SID of the account the request authenticated as."""
    sid: str = request[ACCOUNT_SID]
    return sid
