"""Back-off between webhook attempts and the point of giving up."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from services.callbacks.retry import RetryPolicy

POLICY = RetryPolicy(initial_s=1.0, max_s=60.0, max_attempts=8)


def test_ceiling_doubles_from_the_initial_wait() -> None:
    """The n-th failure may wait up to initial * 2^(n-1)."""
    assert [POLICY.ceiling(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_ceiling_is_capped() -> None:
    """No wait ceiling exceeds the configured maximum, however many failures."""
    assert POLICY.ceiling(7) == 60.0
    assert POLICY.ceiling(10_000) == 60.0


@given(st.integers(min_value=1, max_value=10_000), st.integers())
def test_delay_stays_within_zero_and_the_ceiling(attempts: int, seed: int) -> None:
    """Full jitter draws every wait from [0, ceiling]."""
    policy = RetryPolicy(1.0, 60.0, 8, rng=random.Random(seed))

    delay = policy.delay(attempts)

    assert 0.0 <= delay <= policy.ceiling(attempts)


def test_delays_are_spread_rather_than_fixed() -> None:
    """Jitter spreads retries of many webhooks that failed together."""
    policy = RetryPolicy(1.0, 60.0, 8, rng=random.Random(7))

    delays = {round(policy.delay(5), 6) for _ in range(50)}

    assert len(delays) > 40
    assert min(delays) < 4.0 < max(delays)


def test_exhausted_after_max_attempts() -> None:
    """The last allowed attempt's failure ends the delivery."""
    assert not POLICY.exhausted(7)
    assert POLICY.exhausted(8)
