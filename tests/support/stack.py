"""The whole of Pigeon, each service in its own process, on its own database."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from libs.common.migrate import apply_migrations
from libs.common.settings import CommonSettings
from libs.common.topics import delete_topics, ensure_topics

from .processes import ServiceProcess, free_port

SERVICES = ("api", "scheduler", "redirector", "callbacks")


async def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` with every migration applied; return its URL."""
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    conn = await asyncpg.connect(url)
    try:
        await apply_migrations(conn)
    finally:
        await conn.close()
    return url


DROP_ATTEMPTS = 5
DROP_RETRY_S = 0.5


async def drop_database(admin_url: str, name: str) -> None:
    """Drop ``name``, ending its sessions.

    ``WITH (FORCE)`` cannot end a superuser's backend, and an autovacuum
    worker busy on the database is one: such a drop is tried again.
    """
    admin = await asyncpg.connect(admin_url)
    try:
        for attempt in range(1, DROP_ATTEMPTS + 1):
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except asyncpg.InsufficientPrivilegeError:
                if attempt == DROP_ATTEMPTS:
                    raise
                await asyncio.sleep(DROP_RETRY_S)
    finally:
        await admin.close()


@dataclass
class Stack:
    """Ports, environment and processes of one running Pigeon."""

    base_env: dict[str, str]
    log_dir: Path
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    api_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)

    @property
    def database_name(self) -> str:
        return f"pigeon_stack_{self.tag}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(
            PIGEON_KAFKA_TOPIC_PREFIX=f"stack-{self.tag}.",
            PIGEON_API_PORT=str(self.api_port),
            PIGEON_PUBLIC_BASE_URL=self.api_url,
            PIGEON_REDIRECTOR_HTTPS_PORT=str(self.https_port),
            PIGEON_REDIRECTOR_HTTP_PORT=str(self.http_port),
        )
        env.update(extra or {})
        return env

    @property
    def settings(self) -> CommonSettings:
        env = self.env()
        return CommonSettings(
            database_url=env["PIGEON_DATABASE_URL"],
            kafka_bootstrap=env["PIGEON_KAFKA_BOOTSTRAP"],
            kafka_topic_prefix=env["PIGEON_KAFKA_TOPIC_PREFIX"],
        )

    async def prepare(self, admin_url: str) -> None:
        """Create this stack's database and topics."""
        url = await create_database(admin_url, self.database_name)
        self.base_env["PIGEON_DATABASE_URL"] = url
        await ensure_topics(self.settings)

    async def remove(self, admin_url: str) -> dict[str, int | None]:
        """Stop the services, then drop the database and delete the topics."""
        codes = self.stop()
        await drop_database(admin_url, self.database_name)
        await delete_topics(self.settings)
        return codes

    async def start(
        self,
        extra: dict[str, dict[str, str]] | None = None,
        services: tuple[str, ...] = SERVICES,
    ) -> None:
        """Start the services and wait until each is healthy."""
        for name in services:
            env = self.env((extra or {}).get(name))
            process = ServiceProcess(f"services.{name}", env, self.log_dir)
            process.start()
            self.processes[name] = process
        try:
            await asyncio.gather(*(p.wait_healthy() for p in self.processes.values()))
        except BaseException:
            # A service that failed to start must not leave its siblings behind.
            self.stop()
            raise

    def stop(self) -> dict[str, int | None]:
        """Stop every service; return their exit codes."""
        return {name: process.stop() for name, process in self.processes.items()}


@asynccontextmanager
async def api_only(
    base_env: dict[str, str],
    admin_url: str,
    log_dir: Path,
    settings: dict[str, str] | None = None,
) -> AsyncIterator[Stack]:
    """Only the API service, on a database of its own, with extra ``settings``."""
    running = Stack(dict(base_env), log_dir)
    await running.prepare(admin_url)
    try:
        await running.start({"api": settings or {}}, services=("api",))
        yield running
    finally:
        await running.remove(admin_url)
