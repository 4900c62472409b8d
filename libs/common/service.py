"""Process lifecycle shared by the four services.

``run_service`` installs uvloop, logging and signal handlers, starts the
health and metrics endpoint, and runs the service's ``serve`` coroutine until
SIGTERM or SIGINT; ``serve`` then has the grace period to drain its work.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .logs import configure_logging
from .settings import CommonSettings

log = structlog.get_logger(__name__)

Serve = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
ReadyCheck = Callable[[], bool]


async def start_health_server(
    settings: CommonSettings, ready: ReadyCheck
) -> web.AppRunner:
    """Serve ``/healthz`` (liveness and readiness) and ``/metrics``."""

    async def healthz(_: web.Request) -> web.Response:
        if ready():
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "starting"}, status=503)

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.health_host, settings.health_port).start()
    return runner


def run_service(name: str, settings: CommonSettings, serve: Serve) -> None:
    """Run ``serve`` in a fresh event loop until a termination signal."""
    configure_logging(settings.log_level, json=settings.log_json)
    structlog.contextvars.bind_contextvars(service=name)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is absent on some platforms
        asyncio.run(_supervise(name, settings, serve))
    else:
        uvloop.run(_supervise(name, settings, serve))


async def _supervise(name: str, settings: CommonSettings, serve: Serve) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("service_starting", name=name)
    task = asyncio.create_task(serve(stop))
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        stopper.cancel()
        task.result()
        return
    log.info("service_stopping", name=name, grace_s=settings.shutdown_grace_s)
    try:
        await asyncio.wait_for(task, settings.shutdown_grace_s)
    except TimeoutError:
        log.warning("service_shutdown_timed_out", name=name)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    log.info("service_stopped", name=name)


async def wait_for_stop(stop: asyncio.Event, tasks: list[asyncio.Task[None]]) -> None:
    """Return once ``stop`` is set; re-raise at once if a background task dies."""
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    for task in done:
        if task is not stopper:
            task.result()
