"""``python -m services.redirector``: serve short links until SIGTERM."""

from __future__ import annotations

import functools

from libs.common.service import run_service

from .main import serve
from .settings import RedirectorSettings


def main() -> None:
    """Run the redirector with settings from the environment."""
    settings = RedirectorSettings()
    run_service("redirector", settings, functools.partial(serve, settings))


if __name__ == "__main__":
    main()
