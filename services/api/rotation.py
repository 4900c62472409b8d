"""Re-sealing stored secrets under the active master key.

After a new key is put first in ``PIGEON_MASTER_KEY`` (the old one kept after
it), ``python -m services.api.admin rotate-master-key`` re-seals every private
key and auth token still sealed under an older key.  Once it reports nothing
left, the old key can be removed from the configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from libs.common.crypto import KeyRing, Sealed
from libs.common.db import transaction

BATCH = 500


@dataclass(frozen=True)
class SealedColumn:
    table: str
    key_column: str
    blob_column: str
    key_id_column: str


SEALED_COLUMNS = (
    SealedColumn(
        "domain_certificates", "sid", "private_key_sealed", "private_key_key_id"
    ),
    SealedColumn("accounts", "sid", "auth_token_sealed", "auth_token_key_id"),
)


async def rotate(pool: asyncpg.Pool, keyring: KeyRing) -> dict[str, int]:
    """Re-seal every value not under the active key; return counts per table."""
    return {
        column.table: await _rotate_column(pool, keyring, column)
        for column in SEALED_COLUMNS
    }


async def _rotate_column(
    pool: asyncpg.Pool, keyring: KeyRing, column: SealedColumn
) -> int:
    # Identifiers come from SEALED_COLUMNS above, never from input.
    select = (
        f"SELECT {column.key_column} AS sid, {column.blob_column} AS blob,"  # noqa: S608
        f" {column.key_id_column} AS key_id FROM {column.table}"
        f" WHERE {column.key_id_column} <> $1 LIMIT {BATCH} FOR UPDATE SKIP LOCKED"
    )
    update = (
        f"UPDATE {column.table} SET {column.blob_column} = $2,"  # noqa: S608
        f" {column.key_id_column} = $3 WHERE {column.key_column} = $1"
    )
    total = 0
    while True:
        async with transaction(pool) as conn:
            rows = await conn.fetch(select, keyring.active_key_id)
            for row in rows:
                plain = keyring.unseal(Sealed(row["key_id"], row["blob"]), row["sid"])
                fresh = keyring.seal(plain, row["sid"])
                await conn.execute(update, row["sid"], fresh.blob, fresh.key_id)
        total += len(rows)
        if len(rows) < BATCH:
            return total
