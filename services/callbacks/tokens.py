"""Accounts' auth tokens, unsealed for signing and kept in memory briefly."""

from __future__ import annotations

import time
from collections.abc import Callable

from libs.common.crypto import KeyRing, Sealed
from libs.common.db import Pool, translate_db_errors
from libs.common.errors import PermanentError

_SELECT_SEALED = """
SELECT auth_token_sealed, auth_token_key_id FROM accounts WHERE sid = $1
"""


class UnknownAccountError(PermanentError):
    """A delivery names an account that no longer exists."""


class AuthTokens:
    """Unsealed auth tokens by account SID, each reused for ``ttl_s`` seconds.

    The short lifetime bounds how long a rotated token keeps signing.
    """

    def __init__(
        self,
        pool: Pool,
        keyring: KeyRing,
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._keyring = keyring
        self._ttl_s = ttl_s
        self._clock = clock
        self._cached: dict[str, tuple[float, str]] = {}

    async def get(self, account_sid: str) -> str:
        """The account's auth token, from memory while fresh."""
        now = self._clock()
        cached = self._cached.get(account_sid)
        if cached is not None and cached[0] > now:
            return cached[1]
        token = await self._load(account_sid)
        self._cached[account_sid] = (now + self._ttl_s, token)
        return token

    async def _load(self, account_sid: str) -> str:
        with translate_db_errors():
            row = await self._pool.fetchrow(_SELECT_SEALED, account_sid)
        if row is None:
            raise UnknownAccountError(f"account {account_sid} does not exist")
        sealed = Sealed(row["auth_token_key_id"], bytes(row["auth_token_sealed"]))
        return self._keyring.unseal(sealed, context=account_sid).decode()
