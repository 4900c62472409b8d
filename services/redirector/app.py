"""HTTP handlers of the data plane: ``GET /{code}`` answered with a redirect.

Handlers only gather what the request says and render a ``Decision``; the
decision itself is made in ``redirects``.  Failures never show a traceback:
a broken dependency is a 503 and anything unexpected a 500, with a logged event.
"""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from libs.common.errors import RetryableError

from .clicks import ClickPublisher, click_event
from .links import Link, LinkDirectory
from .metrics import REDIRECTS
from .redirects import (
    Decision,
    Outcome,
    decide,
    is_valid_code,
    link_on,
    served_domain,
)
from .tls import CertificateStore

log = structlog.get_logger(__name__)

DIRECTORY = web.AppKey("directory", LinkDirectory)
CLICKS = web.AppKey("clicks", ClickPublisher)
CERTIFICATES = web.AppKey("certificates", CertificateStore)

_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def create_app(
    directory: LinkDirectory, clicks: ClickPublisher, certificates: CertificateStore
) -> web.Application:
    """The data-plane application, served on both the HTTPS and HTTP listeners."""
    app = web.Application(middlewares=[contain_errors])
    app[DIRECTORY] = directory
    app[CLICKS] = clicks
    app[CERTIFICATES] = certificates
    app.router.add_get("/healthz", answer_alive)
    app.router.add_get("/{code}", follow_link)
    return app


async def answer_alive(_: web.Request) -> web.Response:
    """A probe of the data path itself, for load balancers."""
    return web.Response(text="ok\n", headers=_NO_STORE)


async def follow_link(request: web.Request) -> web.Response:
    """Redirect a short link; a GET that leads somewhere counts as a click."""
    link, decision = await _decide(request)
    REDIRECTS.labels(decision.outcome).inc()
    if decision.location is None:
        log.debug("link_not_served", outcome=decision.outcome, path=request.path)
    elif link is not None and decision.is_click and request.method == hdrs.METH_GET:
        _record_click(request, link)
    return render(decision)


def render(decision: Decision) -> web.Response:
    """A 302 to the decision's location, or a short plain-text 404."""
    if decision.location is None:
        return _plain(404, "Not Found")
    return web.Response(
        status=302, headers={**_NO_STORE, hdrs.LOCATION: decision.location}
    )


@web.middleware
async def contain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn failures into short plain answers and logged events."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except RetryableError as exc:
        REDIRECTS.labels(Outcome.UNAVAILABLE).inc()
        log.warning("request_unavailable", path=request.path, error=str(exc))
        return _plain(503, "Service Unavailable")
    except Exception:
        REDIRECTS.labels(Outcome.ERROR).inc()
        log.exception("request_failed", path=request.path)
        return _plain(500, "Internal Server Error")


async def _decide(request: web.Request) -> tuple[Link | None, Decision]:
    code = request.match_info["code"]
    secure, sni_name = _connection_tls(request)
    host = served_domain(
        request.headers.get(hdrs.HOST), secure=secure, sni_name=sni_name
    )
    if host is None:
        return None, Decision(Outcome.MISDIRECTED)
    if not is_valid_code(code):
        return None, Decision(Outcome.MALFORMED)
    directory = request.app[DIRECTORY]
    link = link_on(await directory.link(code), host)
    domain = link.domain if link is not None else await directory.domain(host)
    now = datetime.now(UTC)
    return link, decide(code, link, domain, now=now, secure=secure)


def _record_click(request: web.Request, link: Link) -> None:
    event = click_event(
        link,
        clicked_at=datetime.now(UTC),
        user_agent=request.headers.get(hdrs.USER_AGENT),
    )
    request.app[CLICKS].submit(event)


def _connection_tls(request: web.Request) -> tuple[bool, str | None]:
    """Whether the request came over TLS, and the domain its handshake chose."""
    transport = request.transport
    connection = transport.get_extra_info("ssl_object") if transport else None
    if not isinstance(connection, ssl.SSLObject):
        return False, None
    return True, request.app[CERTIFICATES].domain_of(connection.context)


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=f"{text}\n", headers=_NO_STORE)
