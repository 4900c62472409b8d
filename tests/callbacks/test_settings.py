"""Reading the callbacks settings from the environment."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from pydantic import ValidationError

from services.callbacks.settings import CallbacksSettings


def test_allowed_cidrs_default_to_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """Out of the box no private range is exempt from the block."""
    monkeypatch.delenv("PIGEON_WEBHOOK_ALLOWED_CIDRS", raising=False)

    assert CallbacksSettings().webhook_allowed_cidrs == []


@pytest.mark.parametrize(
    "raw", ["127.0.0.0/8, fd00::/8", '["127.0.0.0/8", "fd00::/8"]']
)
def test_allowed_cidrs_read_as_list_or_json(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    """Both a comma-separated list and a JSON array are understood."""
    monkeypatch.setenv("PIGEON_WEBHOOK_ALLOWED_CIDRS", raw)

    allowed = CallbacksSettings().webhook_allowed_cidrs

    assert allowed == [ip_network("127.0.0.0/8"), ip_network("fd00::/8")]


def test_empty_allowed_cidrs_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty variable, as compose passes by default, allows nothing."""
    monkeypatch.setenv("PIGEON_WEBHOOK_ALLOWED_CIDRS", "")

    assert CallbacksSettings().webhook_allowed_cidrs == []


def test_malformed_cidr_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo in a range stops the service instead of allowing something else."""
    monkeypatch.setenv("PIGEON_WEBHOOK_ALLOWED_CIDRS", "127.0.0.0/33")

    with pytest.raises(ValidationError):
        CallbacksSettings()


def test_lease_must_outlast_an_attempt() -> None:
    """A claim lease no longer than the total timeout is refused."""
    with pytest.raises(ValidationError):
        CallbacksSettings(webhook_total_timeout_s=30.0, webhook_claim_lease_s=30.0)
