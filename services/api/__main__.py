"""``python -m services.api``: the Twilio-compatible REST API."""

from __future__ import annotations

from functools import partial

from libs.common.service import run_service

from .app import serve
from .settings import ApiSettings


def main() -> None:
    settings = ApiSettings()
    run_service("api", settings, partial(serve, settings))


if __name__ == "__main__":
    main()
