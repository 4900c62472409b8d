"""A local HTTP endpoint standing in for a carrier and a customer's webhooks."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiohttp import web
from multidict import CIMultiDict

from .processes import free_port


@dataclass
class Received:
    """One request as the receiver saw it."""

    path: str
    url: str
    headers: CIMultiDict[str]
    body: bytes
    at: float = field(default_factory=time.time)


class Receiver:
    """Records every POST; answers each path with a status set by the test."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[Received] = []
        self.statuses: dict[str, list[int]] = {}
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail_next(self, path: str, *statuses: int) -> None:
        """Answer the next requests to ``path`` with these statuses, then 200."""
        self.statuses.setdefault(path, []).extend(statuses)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._record)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    async def wait_for(
        self, path: str, count: int = 1, timeout_s: float = 30
    ) -> list[Received]:
        """Wait until ``count`` requests reached ``path``; return them."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.on(path)) >= count), timeout_s
            )
        return self.on(path)

    async def _record(self, request: web.Request) -> web.Response:
        body = await request.read()
        received = Received(
            request.path, str(request.url), CIMultiDict(request.headers), body
        )
        queued = self.statuses.get(request.path) or []
        status = queued.pop(0) if queued else 200
        async with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
        return web.Response(status=status)
