"""Apply the versioned SQL migrations in ``migrations/`` exactly once each.

Run as ``python -m libs.common.migrate``.  Files are named ``NNNN_name.sql`` and
applied in order inside one transaction each; an advisory lock keeps two
migrators from racing.
"""

from __future__ import annotations

import asyncio
from importlib import resources

import asyncpg
import structlog

from .logs import configure_logging
from .settings import CommonSettings

log = structlog.get_logger(__name__)

_LOCK_ID = 0x5049_4745  # "PIGE"


def migration_files() -> list[tuple[int, str, str]]:
    """Return ``(version, name, sql)`` for every migration, oldest first."""
    folder = resources.files(__package__).joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def apply_migrations(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations on ``conn`` and return the names applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {
            r["version"]
            for r in await conn.fetch("SELECT version FROM schema_migrations")
        }
        applied = []
        for version, name, sql in migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    version,
                    name,
                )
            log.info("migration_applied", version=version, name=name)
            applied.append(name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)


async def _main() -> None:
    settings = CommonSettings()
    configure_logging(settings.log_level, json=settings.log_json)
    conn = await asyncpg.connect(settings.database_url)
    try:
        applied = await apply_migrations(conn)
    finally:
        await conn.close()
    log.info("migrations_complete", applied=len(applied))


if __name__ == "__main__":
    asyncio.run(_main())
