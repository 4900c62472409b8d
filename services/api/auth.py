"""The authentication middleware: HTTP Basic with an account's or a key's secret."""

from __future__ import annotations

import hashlib

from aiohttp import web

from libs.common.errors import NotFoundError
from libs.common.ttlcache import TtlCache

from .accounts import Principal, authenticate
from .context import POOL, PRINCIPAL
from .middleware import Handler

PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json"})


class CredentialCache:
    """Credentials proven in the last ``ttl_s`` seconds, keyed by their digest.

    A busy client is not checked against the database on every request; a
    revoked key or rotated token stops working within ``ttl_s``.
    """

    def __init__(self, ttl_s: float) -> None:
        self._entries: TtlCache[bytes, Principal] = TtlCache(ttl_s)

    def get(self, header: str | None) -> Principal | None:
        return None if header is None else self._entries.get(_digest(header))

    def put(self, header: str | None, principal: Principal) -> None:
        if header is not None:
            self._entries.put(_digest(header), principal)

    def forget_key(self, key_sid: str) -> None:
        """Stop trusting a deleted API key here at once (elsewhere within TTL)."""
        self._entries.discard_values(lambda principal: principal.key_sid == key_sid)


def _digest(header: str) -> bytes:
    return hashlib.sha256(header.encode()).digest()


CREDENTIAL_CACHE = web.AppKey("credential_cache", CredentialCache)


@web.middleware
async def basic_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate every request but the public ones; scope it to the account."""
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    header = request.headers.get("Authorization")
    cache = request.app[CREDENTIAL_CACHE]
    principal = cache.get(header)
    if principal is None:
        principal = await authenticate(request.app[POOL], header)
        cache.put(header, principal)
    path_account = request.match_info.get("account_sid")
    if path_account is not None and path_account != principal.account_sid:
        raise NotFoundError(request.path)
    request[PRINCIPAL] = principal
    return await handler(request)
