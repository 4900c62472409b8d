"""The authentication middleware: HTTP Basic with an account's or a key's secret."""

from __future__ import annotations

from aiohttp import web

from libs.common.errors import NotFoundError

from .accounts import authenticate
from .context import POOL, PRINCIPAL
from .middleware import Handler

PUBLIC_PATHS = frozenset({"/healthz", "/openapi.json"})


@web.middleware
async def basic_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate every request but the public ones; scope it to the account."""
    if request.path in PUBLIC_PATHS:
        return await handler(request)
    principal = await authenticate(
        request.app[POOL], request.headers.get("Authorization")
    )
    path_account = request.match_info.get("account_sid")
    if path_account is not None and path_account != principal.account_sid:
        raise NotFoundError(request.path)
    request[PRINCIPAL] = principal
    return await handler(request)
