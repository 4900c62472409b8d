"""Error translation at the HTTP boundary: every failure in Twilio's shape."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from libs.common.errors import ApiError, NotFoundError, RetryableError

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(error: ApiError) -> web.Response:
    """A JSON response with Twilio's ``code``/``message``/``more_info``/``status``."""
    return web.json_response(error.body(), status=error.status)


@web.middleware
async def twilio_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error as Twilio's JSON error body; never a stack trace."""
    try:
        return await handler(request)
    except ApiError as exc:
        log.debug("request_refused", path=request.path, code=exc.code)
        return error_response(exc)
    except web.HTTPNotFound:
        return error_response(NotFoundError(request.path))
    except web.HTTPMethodNotAllowed:
        return error_response(ApiError(20004, "Method not allowed", 405))
    except web.HTTPRequestEntityTooLarge:
        return error_response(ApiError(20001, "Request body too large", 413))
    except RetryableError as exc:
        log.warning("request_unavailable", path=request.path, error=str(exc))
        return error_response(ApiError(20503, "Service temporarily unavailable", 503))
    except web.HTTPException:
        raise
    except Exception:
        log.exception("request_failed", path=request.path, method=request.method)
        return error_response(ApiError(20500, "Internal server error", 500))
