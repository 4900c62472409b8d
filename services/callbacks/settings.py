"""Settings of the callbacks service, read from ``PIGEON_*`` variables."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from libs.common.settings import CommonSettings, split_list

DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 10.0
DEFAULT_TOTAL_TIMEOUT_S = 15.0
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_BACKOFF_INITIAL_S = 5.0
DEFAULT_BACKOFF_MAX_S = 600.0
DEFAULT_CONCURRENCY = 32
DEFAULT_CLAIM_LEASE_S = 60.0
DEFAULT_POLL_INTERVAL_S = 2.0
DEFAULT_RESPONSE_MAX_BYTES = 64 * 1024
DEFAULT_TOKEN_CACHE_TTL_S = 60.0

Network = IPv4Network | IPv6Network


class CallbacksSettings(CommonSettings):
    """How webhooks are sent, retried and confined to public addresses."""

    webhook_connect_timeout_s: float = Field(default=DEFAULT_CONNECT_TIMEOUT_S, gt=0)
    webhook_read_timeout_s: float = Field(default=DEFAULT_READ_TIMEOUT_S, gt=0)
    webhook_total_timeout_s: float = Field(default=DEFAULT_TOTAL_TIMEOUT_S, gt=0)
    webhook_max_attempts: int = Field(default=DEFAULT_MAX_ATTEMPTS, ge=1)
    webhook_backoff_initial_s: float = Field(default=DEFAULT_BACKOFF_INITIAL_S, gt=0)
    webhook_backoff_max_s: float = Field(default=DEFAULT_BACKOFF_MAX_S, gt=0)
    webhook_concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1)
    webhook_claim_lease_s: float = Field(default=DEFAULT_CLAIM_LEASE_S, gt=0)
    webhook_poll_interval_s: float = Field(default=DEFAULT_POLL_INTERVAL_S, gt=0)
    webhook_response_max_bytes: int = Field(default=DEFAULT_RESPONSE_MAX_BYTES, ge=0)
    webhook_token_cache_ttl_s: float = Field(default=DEFAULT_TOKEN_CACHE_TTL_S, ge=0)
    # Ranges exempt from the block on private and loopback addresses, written
    # as a comma-separated list (``10.1.0.0/16,fd00::/8``) or a JSON array.
    webhook_allowed_cidrs: Annotated[list[Network], NoDecode] = Field(
        default_factory=list
    )

    _split_cidrs = field_validator("webhook_allowed_cidrs", mode="before")(split_list)

    @model_validator(mode="after")
    def _lease_outlasts_attempt(self) -> Self:
        # A lease shorter than an attempt would let another replica claim a
        # row while its first POST is still in flight.
        if self.webhook_claim_lease_s <= self.webhook_total_timeout_s:
            raise ValueError(
                "webhook_claim_lease_s must exceed webhook_total_timeout_s"
            )
        if self.webhook_backoff_max_s < self.webhook_backoff_initial_s:
            raise ValueError("webhook_backoff_max_s must be at least the initial")
        return self
