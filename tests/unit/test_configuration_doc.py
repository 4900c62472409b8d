"""docs/configuration.md names every setting the services read."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from libs.common.settings import CommonSettings
from services.api.settings import ApiSettings
from services.callbacks.settings import CallbacksSettings
from services.redirector.settings import RedirectorSettings
from services.scheduler.settings import SchedulerSettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


@pytest.mark.parametrize(
    "settings",
    [
        CommonSettings,
        ApiSettings,
        SchedulerSettings,
        RedirectorSettings,
        CallbacksSettings,
    ],
)
def test_every_setting_is_documented(settings: type[BaseSettings]) -> None:
    """A setting added to a service without a line in the doc fails here."""
    text = DOC.read_text()
    names = {f"PIGEON_{name.upper()}" for name in settings.model_fields}
    assert {name for name in names if f"`{name}`" not in text} == set()
