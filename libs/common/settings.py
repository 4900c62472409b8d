"""Typed settings shared by every service, read from ``PIGEON_*`` variables."""

from __future__ import annotations

import orjson
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql://pigeon:pigeon@127.0.0.1:15432/pigeon"
DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:19092"
# A development key; production deployments must set PIGEON_MASTER_KEY.
DEFAULT_MASTER_KEY = "dev:" + "A" * 43 + "="


class CommonSettings(BaseSettings):
    """Settings every service reads: infrastructure, logging and health."""

    model_config = SettingsConfigDict(env_prefix="PIGEON_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    database_pool_min: int = Field(default=1, ge=0)
    database_pool_max: int = Field(default=20, ge=1)
    database_timeout_s: float = Field(default=10.0, gt=0)

    kafka_bootstrap: str = DEFAULT_KAFKA_BOOTSTRAP
    kafka_topic_prefix: str = ""
    kafka_request_timeout_ms: int = Field(default=30_000, gt=0)
    kafka_replication_factor: int = Field(default=1, ge=1)

    master_key: SecretStr = SecretStr(DEFAULT_MASTER_KEY)

    log_level: str = "INFO"
    log_json: bool = True

    health_host: str = "127.0.0.1"
    health_port: int = Field(default=9100, ge=0, le=65535)

    shutdown_grace_s: float = Field(default=10.0, gt=0)

    # Certificates this close to expiry are reported (warning 30131).
    certificate_expiry_warning_days: int = Field(default=21, ge=0)


def split_list(value: object) -> object:
    """Read a list setting written as ``a,b,c`` or as a JSON array.

    Use as a ``mode="before"`` validator on a field annotated ``NoDecode``.
    """
    if not isinstance(value, str):
        return value
    if value.lstrip().startswith("["):
        return orjson.loads(value)
    return [part.strip() for part in value.split(",") if part.strip()]
