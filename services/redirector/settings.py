"""The redirector's settings, read from ``PIGEON_*`` variables."""

from __future__ import annotations

from pydantic import Field

from libs.common.settings import CommonSettings

DEFAULT_HTTPS_PORT = 8443
DEFAULT_HTTP_PORT = 8081
DEFAULT_LINK_CACHE_SIZE = 100_000
# Long enough that a warm link costs no query, short enough that a deleted
# link or a changed fallback URL is seen within minutes.
DEFAULT_LINK_CACHE_TTL_S = 300.0
DEFAULT_NEGATIVE_CACHE_TTL_S = 5.0
DEFAULT_DOMAIN_CACHE_SIZE = 10_000
DEFAULT_DOMAIN_CACHE_TTL_S = 30.0
DEFAULT_CERTIFICATE_RESYNC_INTERVAL_S = 60.0
DEFAULT_MAX_PENDING_CLICKS = 10_000
DEFAULT_REQUEST_DRAIN_S = 4.0
DEFAULT_CLICK_FLUSH_S = 4.0


class RedirectorSettings(CommonSettings):
    """Where the redirector listens, how much it caches and how it drains."""

    redirector_host: str = "127.0.0.1"
    redirector_https_port: int = Field(default=DEFAULT_HTTPS_PORT, ge=0, le=65535)
    redirector_http_port: int = Field(default=DEFAULT_HTTP_PORT, ge=0, le=65535)

    link_cache_size: int = Field(default=DEFAULT_LINK_CACHE_SIZE, ge=1)
    link_cache_ttl_s: float = Field(default=DEFAULT_LINK_CACHE_TTL_S, gt=0)
    negative_cache_ttl_s: float = Field(default=DEFAULT_NEGATIVE_CACHE_TTL_S, gt=0)
    domain_cache_size: int = Field(default=DEFAULT_DOMAIN_CACHE_SIZE, ge=1)
    domain_cache_ttl_s: float = Field(default=DEFAULT_DOMAIN_CACHE_TTL_S, gt=0)

    certificate_resync_interval_s: float = Field(
        default=DEFAULT_CERTIFICATE_RESYNC_INTERVAL_S, gt=0
    )
    max_pending_clicks: int = Field(default=DEFAULT_MAX_PENDING_CLICKS, ge=1)

    # Both drains run inside ``shutdown_grace_s``; keep their sum below it.
    request_drain_s: float = Field(default=DEFAULT_REQUEST_DRAIN_S, gt=0)
    click_flush_s: float = Field(default=DEFAULT_CLICK_FLUSH_S, gt=0)
