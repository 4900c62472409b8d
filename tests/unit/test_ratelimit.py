"""The token bucket behind the per-account rate limit."""

from __future__ import annotations

from services.api.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_refills_at_the_rate() -> None:
    """Ten requests pass at once, the eleventh waits for a tenth of a second."""
    clock = Clock()
    limiter = RateLimiter(rate=10, burst=10, clock=clock)
    assert all(limiter.allow("AC1") for _ in range(10))
    assert not limiter.allow("AC1")
    clock.now += 0.1
    assert limiter.allow("AC1")
    assert not limiter.allow("AC1")


def test_accounts_have_separate_buckets() -> None:
    """One account emptying its bucket leaves another's full."""
    limiter = RateLimiter(rate=1, burst=1, clock=Clock())
    assert limiter.allow("AC1")
    assert not limiter.allow("AC1")
    assert limiter.allow("AC2")
