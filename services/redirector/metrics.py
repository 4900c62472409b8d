"""Prometheus collectors of the redirector, served by the common ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

REDIRECTS = Counter(
    "pigeon_redirector_requests_total",
    "Short-link requests answered, by outcome.",
    ["outcome"],
)
CACHE_LOOKUPS = Counter(
    "pigeon_redirector_cache_lookups_total",
    "Cache lookups, by cache and by result (hit or miss).",
    ["cache", "result"],
)
CLICK_EVENTS = Counter(
    "pigeon_redirector_click_events_total",
    "Click events, by result (published, failed or dropped).",
    ["result"],
)
CERTIFICATES_LOADED = Gauge(
    "pigeon_redirector_certificates_loaded",
    "Domains whose certificate is currently served.",
)
CERTIFICATE_LOADS = Counter(
    "pigeon_redirector_certificate_loads_total",
    "Attempts to build a domain's TLS context, by result (loaded or failed).",
    ["result"],
)
CERTIFICATE_EXPIRY = Gauge(
    "pigeon_certificate_not_after_timestamp_seconds",
    "When each served domain's certificate expires, as a Unix time.",
    ["domain"],
)
