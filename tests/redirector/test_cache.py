"""The lookup cache: LRU bound, expiry, remembered misses and shared loads."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from services.redirector.cache import LookupCache
from services.redirector.links import DomainPolicy, Link, LinkDirectory, LinkRepository
from services.redirector.settings import RedirectorSettings


class ManualClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingSource:
    """Values derived from keys, counting how often each key is loaded."""

    def __init__(self, missing: frozenset[str] = frozenset()) -> None:
        self.missing = missing
        self.loads: Counter[str] = Counter()
        self.gate = asyncio.Event()
        self.gate.set()

    async def load(self, key: str) -> str | None:
        self.loads[key] += 1
        await self.gate.wait()
        return None if key in self.missing else key.upper()


def make_cache(
    source: CountingSource, clock: ManualClock, max_entries: int = 100
) -> LookupCache[str, str]:
    return LookupCache(
        "test",
        source.load,
        max_entries=max_entries,
        ttl_s=60.0,
        negative_ttl_s=5.0,
        clock=clock,
    )


async def test_a_cached_value_is_not_loaded_again() -> None:
    """A second lookup within the time to live is answered from memory."""
    source = CountingSource()
    cache = make_cache(source, ManualClock())

    assert await cache.get("a") == "A"
    assert await cache.get("a") == "A"

    assert source.loads["a"] == 1


async def test_least_recently_used_entry_is_evicted_at_the_bound() -> None:
    """Beyond max_entries the entry used longest ago goes, not the oldest."""
    source = CountingSource()
    cache = make_cache(source, ManualClock(), max_entries=2)
    await cache.get("a")
    await cache.get("b")
    await cache.get("a")

    await cache.get("c")
    await cache.get("a")
    await cache.get("b")

    assert len(cache) == 2
    assert source.loads == Counter({"a": 1, "b": 2, "c": 1})


async def test_values_expire_after_their_time_to_live() -> None:
    """A value older than ttl_s is loaded again."""
    source = CountingSource()
    clock = ManualClock()
    cache = make_cache(source, clock)
    await cache.get("a")

    clock.now += 60.0
    await cache.get("a")

    assert source.loads["a"] == 2


async def test_misses_are_remembered_for_the_negative_time_to_live() -> None:
    """An unknown key is loaded once per negative_ttl_s, however often asked."""
    source = CountingSource(missing=frozenset({"nope"}))
    clock = ManualClock()
    cache = make_cache(source, clock)

    assert await cache.get("nope") is None
    clock.now += 4.9
    assert await cache.get("nope") is None
    assert source.loads["nope"] == 1

    clock.now += 0.1
    assert await cache.get("nope") is None
    assert source.loads["nope"] == 2


async def test_concurrent_misses_share_one_load() -> None:
    """Many lookups of one uncached key wait for a single load."""
    source = CountingSource()
    source.gate.clear()
    cache = make_cache(source, ManualClock())
    lookups = [asyncio.create_task(cache.get("a")) for _ in range(50)]
    await asyncio.sleep(0)

    source.gate.set()

    assert await asyncio.gather(*lookups) == ["A"] * 50
    assert source.loads["a"] == 1


async def test_a_caller_giving_up_does_not_cancel_the_shared_load() -> None:
    """Cancelling one waiter leaves the load running for the others."""
    source = CountingSource()
    source.gate.clear()
    cache = make_cache(source, ManualClock())
    impatient = asyncio.create_task(cache.get("a"))
    patient = asyncio.create_task(cache.get("a"))
    await asyncio.sleep(0)

    impatient.cancel()
    source.gate.set()

    assert await patient == "A"
    with pytest.raises(asyncio.CancelledError):
        await impatient
    assert source.loads["a"] == 1


async def test_load_errors_reach_every_waiter_and_are_not_cached() -> None:
    """A failed load fails its waiters; the next lookup tries again."""
    attempts = 0

    async def flaky(key: str) -> str:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0)
        if attempts == 1:
            raise ConnectionError("database away")
        return key

    cache: LookupCache[str, str] = LookupCache(
        "test", flaky, max_entries=10, ttl_s=60.0, negative_ttl_s=5.0
    )
    first = await asyncio.gather(cache.get("a"), cache.get("a"), return_exceptions=True)

    assert [type(outcome) for outcome in first] == [ConnectionError, ConnectionError]
    assert await cache.get("a") == "a"
    assert attempts == 2


async def test_discarded_entries_are_loaded_again_and_the_rest_kept() -> None:
    source = CountingSource(missing=frozenset({"gone"}))
    cache = make_cache(source, ManualClock())
    for key in ("ls.a", "ls.b", "www.a", "gone"):
        await cache.get(key)

    forgotten = cache.discard(lambda key, _: key.endswith(".a"))

    assert forgotten == 2
    for key in ("ls.a", "ls.b", "www.a", "gone"):
        await cache.get(key)
    assert source.loads == Counter({"ls.a": 2, "www.a": 2, "ls.b": 1, "gone": 1})


class FakeRepository(LinkRepository):
    """Links and domains made up on demand, counting the lookups."""

    def __init__(self) -> None:
        self.lookups: Counter[str] = Counter()

    async def find_link(self, code: str) -> Link | None:
        self.lookups[code] += 1
        name = "ls.a.test" if code.startswith("a") else "ls.b.test"
        when = datetime.now(UTC)
        return Link(
            code,
            DomainPolicy(f"DN{name}", name, None, False),
            "https://example.test/",
            when,
            when + timedelta(days=1),
            "SM1",
            "AC1",
            None,
            "+15558675310",
            None,
        )

    async def find_domain(self, name: str) -> DomainPolicy | None:
        self.lookups[name] += 1
        return DomainPolicy(f"DN{name}", name, None, False)


async def test_forgetting_a_domain_drops_its_links_and_policy_only() -> None:
    repository = FakeRepository()
    directory = LinkDirectory(repository, RedirectorSettings())
    for code in ("a1", "a2", "b1"):
        await directory.link(code)
    for name in ("ls.a.test", "ls.b.test"):
        await directory.domain(name)

    assert directory.forget_domain("ls.a.test") == 3

    for code in ("a1", "a2", "b1"):
        await directory.link(code)
    for name in ("ls.a.test", "ls.b.test"):
        await directory.domain(name)
    assert repository.lookups == Counter(
        {"a1": 2, "a2": 2, "ls.a.test": 2, "b1": 1, "ls.b.test": 1}
    )
