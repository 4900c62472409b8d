"""The delivery loop: claim due rows, POST them, settle each outcome.

Rows are claimed in batches no larger than the free concurrency, so a replica
never holds a lease on a row it is not working on.  The loop wakes when the
consumer queues a row in this process, when an attempt frees a slot, or after
the poll interval, which is how rows queued by other replicas or falling due
after a back-off are found.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog
from structlog.typing import FilteringBoundLogger
from yarl import URL

from libs.common.db import Pool
from libs.common.errors import PigeonError, RetryableError

from . import deliveries, metrics
from .deliveries import Delivery
from .retry import RetryPolicy
from .sender import AttemptResult, Outcome, WebhookSender
from .settings import CallbacksSettings

log = structlog.get_logger(__name__)

# Counting pending rows scans the partial index; once in a while is enough.
PENDING_REFRESH_INTERVAL_S = 15.0


class DeliveryWorker:
    """Sends due webhooks, up to ``webhook_concurrency`` at a time."""

    def __init__(
        self,
        pool: Pool,
        sender: WebhookSender,
        retry: RetryPolicy,
        settings: CallbacksSettings,
    ) -> None:
        self._pool = pool
        self._sender = sender
        self._retry = retry
        self._concurrency = settings.webhook_concurrency
        self._lease_s = settings.webhook_claim_lease_s
        self._poll_interval_s = settings.webhook_poll_interval_s
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._pending_counted_at = float("-inf")

    def wake(self) -> None:
        """Look for due rows now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then let in-flight attempts finish."""
        try:
            while not stop.is_set():
                self._wake.clear()
                saturated = await self._fill()
                await self._refresh_pending()
                await self._wait(stop, saturated)
            if self._in_flight:
                await asyncio.wait(self._in_flight)
        finally:
            await self._abandon()

    async def _fill(self) -> bool:
        """Claim rows for the free slots; tell whether every slot is now taken."""
        free = self._concurrency - len(self._in_flight)
        if free <= 0:
            return True
        try:
            claimed = await deliveries.claim_due(self._pool, free, self._lease_s)
        except RetryableError as exc:
            log.warning("delivery_claim_failed", error=str(exc))
            return False
        for delivery in claimed:
            task = asyncio.create_task(self._attempt(delivery))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        return len(claimed) == free

    async def _wait(self, stop: asyncio.Event, saturated: bool) -> None:
        """Sleep until stopped, woken, a slot frees (when full), or the poll."""
        signals = {
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._wake.wait()),
        }
        slots = set(self._in_flight) if saturated else set()
        await asyncio.wait(
            signals | slots,
            timeout=self._poll_interval_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        for signal in signals:
            signal.cancel()

    def _wake_after(self, delay_s: float) -> None:
        # A retry due before the next poll would otherwise wait for it.
        if delay_s < self._poll_interval_s:
            asyncio.get_running_loop().call_later(delay_s, self.wake)

    async def _abandon(self) -> None:
        # Reached when cancelled past the grace period: the rows keep their
        # lease and are tried again once it runs out.
        for task in self._in_flight:
            task.cancel()
        if self._in_flight:
            await asyncio.wait(self._in_flight)

    async def _refresh_pending(self) -> None:
        now = time.monotonic()
        if now - self._pending_counted_at < PENDING_REFRESH_INTERVAL_S:
            return
        self._pending_counted_at = now
        with contextlib.suppress(RetryableError):
            metrics.PENDING.set(await deliveries.count_pending(self._pool))

    async def _attempt(self, delivery: Delivery) -> None:
        """Make one attempt and record it; never raises but for cancellation."""
        bound = log.bind(
            delivery_id=delivery.id,
            event_id=str(delivery.event_id),
            kind=delivery.kind,
            host=_host(delivery.url),
            attempt=delivery.attempts,
        )
        try:
            result = await self._send(delivery)
            await self._settle(delivery, result, bound)
        except RetryableError as exc:
            bound.warning("delivery_settle_failed", error=str(exc))
        except Exception:
            # A bug must not stop other rows; this one is retried once its
            # lease runs out.
            bound.exception("delivery_attempt_crashed")

    async def _send(self, delivery: Delivery) -> AttemptResult:
        started = time.perf_counter()
        try:
            result = await self._sender.send(delivery)
        except PigeonError as exc:
            result = AttemptResult(Outcome.RETRY, str(exc))
        metrics.ATTEMPT_SECONDS.labels(delivery.kind).observe(
            time.perf_counter() - started
        )
        metrics.ATTEMPTS.labels(delivery.kind, result.outcome.value).inc()
        return result

    async def _settle(
        self, delivery: Delivery, result: AttemptResult, bound: FilteringBoundLogger
    ) -> None:
        if result.outcome is Outcome.DELIVERED:
            await deliveries.mark_delivered(self._pool, delivery)
            metrics.SETTLED.labels(delivery.kind, "delivered").inc()
            bound.info("webhook_delivered", status=result.status)
        elif result.outcome is Outcome.REFUSED or self._retry.exhausted(
            delivery.attempts
        ):
            await deliveries.mark_failed(self._pool, delivery, result.detail)
            metrics.SETTLED.labels(delivery.kind, "failed").inc()
            bound.warning(
                "webhook_failed", outcome=result.outcome.value, error=result.detail
            )
        else:
            delay_s = self._retry.delay(delivery.attempts)
            await deliveries.reschedule(self._pool, delivery, delay_s, result.detail)
            self._wake_after(delay_s)
            bound.info("webhook_retry_scheduled", error=result.detail, delay_s=delay_s)


def _host(url: str) -> str | None:
    """The URL's host for logs; the rest may hold credentials."""
    try:
        return URL(url).host
    except ValueError:
        return None
