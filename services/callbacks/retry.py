"""When a failed webhook is tried again, and when it is given up."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .settings import CallbacksSettings


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with full jitter, capped, over a bounded attempt count."""

    initial_s: float
    max_s: float
    max_attempts: int
    rng: random.Random = field(default_factory=random.Random, compare=False)

    @classmethod
    def from_settings(cls, settings: CallbacksSettings) -> RetryPolicy:
        """The policy the operator configured."""
        return cls(
            initial_s=settings.webhook_backoff_initial_s,
            max_s=settings.webhook_backoff_max_s,
            max_attempts=settings.webhook_max_attempts,
        )

    def ceiling(self, attempts: int) -> float:
        """The longest wait after the ``attempts``-th failure."""
        exponent = min(max(attempts - 1, 0), 63)
        return min(self.max_s, self.initial_s * 2.0**exponent)

    def delay(self, attempts: int) -> float:
        """A wait drawn uniformly from zero to the ceiling, so retries spread out."""
        return self.rng.uniform(0.0, self.ceiling(attempts))

    def exhausted(self, attempts: int) -> bool:
        """Tell whether no attempt is left after ``attempts`` have been made."""
        return attempts >= self.max_attempts
