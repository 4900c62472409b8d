"""A bounded, expiring cache of asynchronous lookups that remembers misses too.

Entries are evicted least recently used first once the cache holds
``max_entries``.  A lookup that found nothing is cached as ``None`` for the
shorter ``negative_ttl_s``, so a flood of requests for unknown keys costs one
load per key and period.  Concurrent lookups of a key that is not cached share
a single load.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .metrics import CACHE_LOOKUPS

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class _Entry(Generic[V]):
    value: V | None
    expires_at: float


class LookupCache(Generic[K, V]):
    """Values of ``load(key)``, kept for ``ttl_s`` (``negative_ttl_s`` for None)."""

    def __init__(
        self,
        name: str,
        load: Callable[[K], Awaitable[V | None]],
        *,
        max_entries: int,
        ttl_s: float,
        negative_ttl_s: float,
        clock: Clock = time.monotonic,
    ) -> None:
        self._load = load
        self._max_entries = max_entries
        self._ttl_s = ttl_s
        self._negative_ttl_s = negative_ttl_s
        self._clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._loads: dict[K, asyncio.Future[V | None]] = {}
        self._hits = CACHE_LOOKUPS.labels(name, "hit")
        self._misses = CACHE_LOOKUPS.labels(name, "miss")

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: K) -> V | None:
        """The value for ``key``, or None if it does not exist.

        Errors of the load reach every caller waiting for it and are not cached.
        """
        entry = self._fresh_entry(key)
        if entry is not None:
            self._hits.inc()
            return entry.value
        self._misses.inc()
        # One caller giving up must not cancel the load the others share.
        return await asyncio.shield(self._shared_load(key))

    def put(self, key: K, value: V | None) -> None:
        """Remember ``value`` (None: known not to exist) for its time to live."""
        ttl_s = self._ttl_s if value is not None else self._negative_ttl_s
        self._entries[key] = _Entry(value, self._clock() + ttl_s)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def discard(self, stale: Callable[[K, V | None], bool]) -> int:
        """Forget every entry ``stale`` picks; return how many were forgotten."""
        keys = [k for k, entry in self._entries.items() if stale(k, entry.value)]
        for key in keys:
            del self._entries[key]
        return len(keys)

    def _fresh_entry(self, key: K) -> _Entry[V] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def _shared_load(self, key: K) -> asyncio.Future[V | None]:
        load = self._loads.get(key)
        if load is None:
            load = asyncio.ensure_future(self._load_and_store(key))
            self._loads[key] = load
            load.add_done_callback(functools.partial(self._forget_load, key))
        return load

    async def _load_and_store(self, key: K) -> V | None:
        value = await self._load(key)
        self.put(key, value)
        return value

    def _forget_load(self, key: K, load: asyncio.Future[V | None]) -> None:
        self._loads.pop(key, None)
        if not load.cancelled():
            # Mark the outcome as seen: callers that gave up no longer await it.
            load.exception()
