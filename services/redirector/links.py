"""Short links and their domains, read from PostgreSQL through bounded caches.

A warm link costs no database round trip: ``LinkDirectory`` answers from its
caches and loads a missing code or domain once, however many requests ask.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from libs.common.db import Record, translate_db_errors

from .cache import LookupCache
from .settings import RedirectorSettings

_LINK_QUERY = """
SELECT l.code, l.original_url, l.created_at, l.expires_at,
       l.message_sid, l.account_sid,
       m.to_address, m.from_address, m.messaging_service_sid,
       d.sid AS domain_sid, d.domain_name,
       c.fallback_url, coalesce(c.disable_https, false) AS disable_https
FROM short_links l
JOIN messages m ON m.sid = l.message_sid
JOIN domains d ON d.sid = l.domain_sid
LEFT JOIN domain_configs c ON c.domain_sid = d.sid
WHERE l.code = $1 AND d.verified_at IS NOT NULL
"""

_DOMAIN_QUERY = """
SELECT d.sid AS domain_sid, d.domain_name,
       c.fallback_url, coalesce(c.disable_https, false) AS disable_https
FROM domains d
LEFT JOIN domain_configs c ON c.domain_sid = d.sid
WHERE d.domain_name = $1 AND d.verified_at IS NOT NULL
"""


@dataclass(frozen=True, slots=True)
class DomainPolicy:
    """How a branded domain's links are served."""

    sid: str
    name: str
    fallback_url: str | None
    disable_https: bool

    @property
    def scheme(self) -> str:
        """The scheme of the domain's short links."""
        return "http" if self.disable_https else "https"


@dataclass(frozen=True, slots=True)
class Link:
    """A short link with what a click event reports about it."""

    code: str
    domain: DomainPolicy
    original_url: str
    created_at: datetime
    expires_at: datetime
    message_sid: str
    account_sid: str
    messaging_service_sid: str | None
    to: str
    from_: str | None

    @property
    def shortened_url(self) -> str:
        """The short link as it appeared in the message."""
        return f"{self.domain.scheme}://{self.domain.name}/{self.code}"

    def is_expired(self, now: datetime) -> bool:
        """Tell whether the link no longer leads to its original URL."""
        return self.expires_at <= now


class LinkRepository:
    """Queries for links and domains; driver errors become Pigeon's errors."""

    def __init__(self, pool: asyncpg.Pool, *, timeout_s: float) -> None:
        self._pool = pool
        self._timeout_s = timeout_s

    async def find_link(self, code: str) -> Link | None:
        row = await self._fetch_row(_LINK_QUERY, code)
        return None if row is None else _link_from_row(row)

    async def find_domain(self, name: str) -> DomainPolicy | None:
        row = await self._fetch_row(_DOMAIN_QUERY, name)
        return None if row is None else _domain_from_row(row)

    async def _fetch_row(self, query: str, argument: str) -> Record | None:
        # The bound covers waiting for a free connection, not only the query.
        with translate_db_errors():
            async with asyncio.timeout(self._timeout_s):
                return await self._pool.fetchrow(query, argument)


class LinkDirectory:
    """Links by code and domains by name, cached in process."""

    def __init__(
        self, repository: LinkRepository, settings: RedirectorSettings
    ) -> None:
        self._links: LookupCache[str, Link] = LookupCache(
            "link",
            repository.find_link,
            max_entries=settings.link_cache_size,
            ttl_s=settings.link_cache_ttl_s,
            negative_ttl_s=settings.negative_cache_ttl_s,
        )
        self._domains: LookupCache[str, DomainPolicy] = LookupCache(
            "domain",
            repository.find_domain,
            max_entries=settings.domain_cache_size,
            ttl_s=settings.domain_cache_ttl_s,
            negative_ttl_s=settings.negative_cache_ttl_s,
        )

    async def link(self, code: str) -> Link | None:
        """The link with this code, or None."""
        return await self._links.get(code)

    async def domain(self, name: str) -> DomainPolicy | None:
        """The domain with this lower-case name, or None."""
        return await self._domains.get(name)

    def forget_domain(self, name: str) -> int:
        """Drop what is cached of a domain and its links, to be read anew."""
        forgotten = self._domains.discard(lambda key, _: key == name)
        return forgotten + self._links.discard(
            lambda _, link: link is not None and link.domain.name == name
        )


def _domain_from_row(row: Record) -> DomainPolicy:
    return DomainPolicy(
        sid=row["domain_sid"],
        name=row["domain_name"],
        fallback_url=row["fallback_url"],
        disable_https=row["disable_https"],
    )


def _link_from_row(row: Record) -> Link:
    return Link(
        code=row["code"],
        domain=_domain_from_row(row),
        original_url=row["original_url"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        message_sid=row["message_sid"],
        account_sid=row["account_sid"],
        messaging_service_sid=row["messaging_service_sid"],
        to=row["to_address"],
        from_=row["from_address"],
    )
