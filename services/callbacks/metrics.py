"""Prometheus metrics of webhook delivery, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ENQUEUED = Counter(
    "pigeon_webhook_enqueued_total",
    "Webhook deliveries written to the queue, by kind.",
    ["kind"],
)
ATTEMPTS = Counter(
    "pigeon_webhook_attempts_total",
    "Webhook POST attempts, by kind and result (delivered, retry, refused).",
    ["kind", "result"],
)
SETTLED = Counter(
    "pigeon_webhook_deliveries_total",
    "Webhook deliveries settled, by kind and outcome (delivered, failed).",
    ["kind", "outcome"],
)
ATTEMPT_SECONDS = Histogram(
    "pigeon_webhook_attempt_seconds",
    "Time from starting a POST to knowing its result, by kind.",
    ["kind"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0),
)
PENDING = Gauge(
    "pigeon_webhook_pending",
    "Webhook deliveries waiting in the queue, as last counted.",
)
