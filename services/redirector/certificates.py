"""Keeping the certificates served equal to those stored in PostgreSQL.

``CertificateSync`` loads every certificate at startup, reloads one domain's
when a ``domain.certificate`` event names it, and compares everything with
the database on a timer, so that a missed event heals within one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from libs.common.certificate_expiry import (
    EXPIRING_SOON,
    ExpiryStatus,
    expiry_status,
)
from libs.common.crypto import KeyRing, Sealed
from libs.common.db import Record, translate_db_errors
from libs.common.errors import PermanentError, PigeonError
from libs.common.events import CertificateChanged, Event

from .metrics import CERTIFICATE_EXPIRY, CERTIFICATE_LOADS, CERTIFICATES_LOADED
from .tls import CertificateStore, build_domain_context

log = structlog.get_logger(__name__)

DEFAULT_EXPIRY_WARNING = timedelta(days=21)

# Only verified domains are served.
_VERSIONS_QUERY = """
SELECT c.sid, c.domain_sid, d.domain_name, c.date_updated
FROM domain_certificates c JOIN domains d ON d.sid = c.domain_sid
WHERE d.verified_at IS NOT NULL
"""

_CERTIFICATE_QUERY = """
SELECT c.sid, c.domain_sid, d.domain_name, c.date_updated, c.certificate_pem,
       c.private_key_sealed, c.private_key_key_id, c.not_after
FROM domain_certificates c JOIN domains d ON d.sid = c.domain_sid
WHERE c.domain_sid = $1 AND d.verified_at IS NOT NULL
"""


@dataclass(frozen=True, slots=True)
class CertificateVersion:
    """Which certificate a domain has; a new upload gets a new SID."""

    sid: str
    domain_sid: str
    domain_name: str
    date_updated: datetime


@dataclass(frozen=True, slots=True)
class StoredCertificate:
    """A certificate row: the chain in PEM and the sealed PKCS#8 key."""

    version: CertificateVersion
    chain_pem: str
    sealed_key: Sealed
    not_after: datetime


class CertificateRepository:
    """Reads certificate rows; driver errors become Pigeon's errors."""

    def __init__(self, pool: asyncpg.Pool, *, timeout_s: float) -> None:
        self._pool = pool
        self._timeout_s = timeout_s

    async def versions(self) -> list[CertificateVersion]:
        """The version of every stored certificate."""
        with translate_db_errors():
            async with asyncio.timeout(self._timeout_s):
                rows = await self._pool.fetch(_VERSIONS_QUERY)
        return [CertificateVersion(**dict(row)) for row in rows]

    async def fetch(self, domain_sid: str) -> StoredCertificate | None:
        """The domain's certificate, or None when it has none."""
        with translate_db_errors():
            async with asyncio.timeout(self._timeout_s):
                row = await self._pool.fetchrow(_CERTIFICATE_QUERY, domain_sid)
        return None if row is None else _stored_from_row(row)


class CertificateSync:
    """Installs stored certificates in a ``CertificateStore`` and follows changes."""

    def __init__(
        self,
        repository: CertificateRepository,
        keyring: KeyRing,
        store: CertificateStore,
        expiry_warning: timedelta = DEFAULT_EXPIRY_WARNING,
    ) -> None:
        self._repository = repository
        self._keyring = keyring
        self._store = store
        self._expiry_warning = expiry_warning
        self._served: dict[str, CertificateVersion] = {}
        self._not_after: dict[str, datetime] = {}
        self._reported: dict[str, ExpiryStatus] = {}
        self._reloading = asyncio.Lock()

    async def sync_all(self) -> None:
        """Serve exactly the stored certificates, rebuilding only those changed."""
        stored = {v.domain_name: v for v in await self._repository.versions()}
        gone = [v for name, v in self._served.items() if name not in stored]
        changed = [v for name, v in stored.items() if self._served.get(name) != v]
        for version in [*gone, *changed]:
            await self._reload_rejecting(version.domain_sid, version.domain_name)
        self.report_expiry(datetime.now(UTC))

    def report_expiry(self, now: datetime) -> None:
        """Log a domain's certificate once as it starts expiring or expires."""
        for name, not_after in self._not_after.items():
            status = expiry_status(not_after, now, self._expiry_warning)
            if status == self._reported.get(name, "valid"):
                continue
            if status == "expired":
                log.error("certificate_expired", domain=name, not_after=not_after)
            elif status == "expiring":
                log.warning(
                    "certificate_expiring",
                    domain=name,
                    not_after=not_after,
                    code=EXPIRING_SOON,
                )
            self._reported[name] = status

    async def reload(self, domain_sid: str, domain_name: str) -> None:
        """Serve the domain's stored certificate, or stop serving it if it has
        none or is no longer verified."""
        # Reloads run one at a time, so a slow one never installs a row older
        # than what a faster one installed after reading it later.
        async with self._reloading:
            stored = await self._repository.fetch(domain_sid)
            if stored is None:
                self._drop(domain_name)
                return
            context = await asyncio.to_thread(self._build_context, stored)
            self._install(stored, context)

    async def on_event(self, event: Event) -> None:
        """Follow a ``domain.certificate`` event."""
        if isinstance(event, CertificateChanged):
            log.info(
                "certificate_changed", domain=event.domain_name, action=event.action
            )
            await self._reload_rejecting(event.domain_sid, event.domain_name)

    async def resync_forever(self, interval_s: float) -> None:
        """Run ``sync_all`` every ``interval_s`` until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.sync_all()
            except PigeonError as exc:
                log.warning("certificate_resync_failed", error=str(exc))

    async def _reload_rejecting(self, domain_sid: str, domain_name: str) -> None:
        # One unusable certificate must not keep the others from being served;
        # a domain keeps its previous certificate, if any.
        try:
            await self.reload(domain_sid, domain_name)
        except PermanentError as exc:
            CERTIFICATE_LOADS.labels("failed").inc()
            log.error("certificate_rejected", domain=domain_name, error=str(exc))

    def _build_context(self, stored: StoredCertificate) -> ssl.SSLContext:
        key_der = self._keyring.unseal(stored.sealed_key, context=stored.version.sid)
        return build_domain_context(stored.chain_pem, key_der)

    def _install(self, stored: StoredCertificate, context: ssl.SSLContext) -> None:
        name = stored.version.domain_name
        self._store.install(name, context)
        self._served[name] = stored.version
        self._not_after[name] = stored.not_after
        self._reported.pop(name, None)
        CERTIFICATE_EXPIRY.labels(name).set(stored.not_after.timestamp())
        CERTIFICATE_LOADS.labels("loaded").inc()
        CERTIFICATES_LOADED.set(len(self._store))
        log.info("certificate_loaded", domain=name, not_after=stored.not_after)

    def _drop(self, domain_name: str) -> None:
        self._served.pop(domain_name, None)
        self._not_after.pop(domain_name, None)
        self._reported.pop(domain_name, None)
        with contextlib.suppress(KeyError):
            CERTIFICATE_EXPIRY.remove(domain_name)
        if self._store.remove(domain_name):
            log.info("certificate_dropped", domain=domain_name)
        CERTIFICATES_LOADED.set(len(self._store))


def _stored_from_row(row: Record) -> StoredCertificate:
    return StoredCertificate(
        version=CertificateVersion(
            row["sid"], row["domain_sid"], row["domain_name"], row["date_updated"]
        ),
        chain_pem=row["certificate_pem"],
        sealed_key=Sealed(row["private_key_key_id"], row["private_key_sealed"]),
        not_after=row["not_after"],
    )
