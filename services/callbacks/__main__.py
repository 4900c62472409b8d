"""``python -m services.callbacks``: run the webhook delivery service."""

from __future__ import annotations

import functools

from libs.common.service import run_service

from .main import SERVICE_NAME, serve
from .settings import CallbacksSettings


def main() -> None:
    """Read settings from the environment and serve until SIGTERM."""
    settings = CallbacksSettings()
    run_service(SERVICE_NAME, settings, functools.partial(serve, settings))


if __name__ == "__main__":
    main()
