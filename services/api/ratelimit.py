"""A per-account token bucket: bursts are allowed, sustained floods get 429."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from libs.common.errors import ApiError

from .context import PRINCIPAL, principal_of
from .middleware import Handler

TOO_MANY_REQUESTS = 20429
# Buckets idle this long are forgotten, so memory follows active accounts.
IDLE_FORGET_S = 600.0
MAX_BUCKETS_BEFORE_SWEEP = 10_000


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate`` requests a second per account, with bursts up to ``burst``.

    Limitation: each API process keeps its own buckets, so N replicas allow up
    to N times the rate; a shared limiter is needed when that matters.
    """

    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}

    def allow(self, account_sid: str) -> bool:
        """Take one token from the account's bucket; ``False`` if it is empty."""
        now = self._clock()
        if len(self._buckets) > MAX_BUCKETS_BEFORE_SWEEP:
            self._forget_idle(now)
        bucket = self._buckets.get(account_sid)
        if bucket is None or now - bucket.updated > IDLE_FORGET_S:
            bucket = self._buckets[account_sid] = Bucket(self._burst, now)
        bucket.tokens = min(
            self._burst, bucket.tokens + (now - bucket.updated) * self._rate
        )
        bucket.updated = now
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def _forget_idle(self, now: float) -> None:
        idle = [s for s, b in self._buckets.items() if now - b.updated > IDLE_FORGET_S]
        for sid in idle:
            del self._buckets[sid]


RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)


@web.middleware
async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer 429 (20429) once an account exceeds its request rate."""
    if PRINCIPAL in request and not request.app[RATE_LIMITER].allow(
        principal_of(request).account_sid
    ):
        raise ApiError(TOO_MANY_REQUESTS, "Too Many Requests", 429)
    return await handler(request)
