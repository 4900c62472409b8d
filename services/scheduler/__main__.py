"""``python -m services.scheduler``: durable timers and the dispatcher."""

from __future__ import annotations

from functools import partial

from libs.common.service import run_service

from .app import serve
from .settings import SchedulerSettings


def main() -> None:
    settings = SchedulerSettings()
    run_service("scheduler", settings, partial(serve, settings))


if __name__ == "__main__":
    main()
