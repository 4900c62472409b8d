"""Typed application keys shared by the API's handlers."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from libs.common.crypto import KeyRing
from libs.common.errors import ApiError
from libs.common.ttlcache import TtlCache

from .accounts import Principal
from .dns_checks import Resolver, Routing
from .ingest import CreateBatcher
from .settings import ApiSettings

SETTINGS = web.AppKey("settings", ApiSettings)
POOL = web.AppKey("pool", asyncpg.Pool)
KEYRING = web.AppKey("keyring", KeyRing)
SENDING_CONTEXTS = web.AppKey("sending_contexts", TtlCache)
RESOLVER = web.AppKey("resolver", Resolver)
CREATE_BATCHER = web.AppKey("create_batcher", CreateBatcher)
ROUTING = web.AppKey("routing", Routing)

PRINCIPAL = "principal"

# Twilio's code for credentials that may not do what was asked.
FORBIDDEN = 20403


def principal_of(request: web.Request) -> Principal:
    principal: Principal = request[PRINCIPAL]
    return principal


def account_of(request: web.Request) -> str:
    """The SID of the account the request authenticated as."""
    return principal_of(request).account_sid


def require_account_credentials(request: web.Request) -> None:
    """Refuse API keys where only the account's own auth token may act."""
    if principal_of(request).key_sid is not None:
        raise ApiError(FORBIDDEN, "API keys cannot manage API keys.", 403)
