"""Settings of the scheduler and its dispatcher."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from libs.common.settings import CommonSettings


class SchedulerSettings(CommonSettings):
    """Timer horizon, recovery sweep, carrier and short links."""

    # Messages due within the horizon are held as in-memory timers; the sweep
    # reloads them from PostgreSQL, so a restart or a lost event delays nothing.
    timer_horizon_s: float = Field(default=120.0, gt=0)
    sweep_interval_s: float = Field(default=30.0, gt=0)

    carrier: Literal["webhook", "sink"] = "sink"
    carrier_url: str = ""
    carrier_connect_timeout_s: float = Field(default=5.0, gt=0)
    carrier_total_timeout_s: float = Field(default=15.0, gt=0)
    carrier_connect_retries: int = Field(default=3, ge=0)

    short_link_ttl_days: int = Field(default=90, gt=0)
    # Carrier requests under way at once in one process.
    carrier_concurrency: int = Field(default=64, ge=1)
