"""Certificate synchronisation against the real database, without events."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

import asyncpg
import pytest
import structlog
import trustme

from libs.common.crypto import KeyRing
from services.redirector.certificates import CertificateRepository, CertificateSync
from services.redirector.tls import CertificateStore
from tests.support.polling import until

from . import records
from .conftest import Shop
from .handshakes import handshake, leaf_der

RESYNC_INTERVAL_S = 0.05
RESYNC_TIMEOUT_S = 5.0
DB_TIMEOUT_S = 5.0


class Domain:
    """A fresh domain of the shop, with a name no other test uses."""

    def __init__(self, sid: str, name: str) -> None:
        self.sid = sid
        self.name = name


@pytest.fixture
async def domain(pool: asyncpg.Pool, shop: Shop) -> Domain:
    name = f"sync{secrets.token_hex(3)}.owlshoes.test"
    return Domain(await records.insert_domain(pool, shop.account_sid, name), name)


@pytest.fixture
def store() -> CertificateStore:
    return CertificateStore()


@pytest.fixture
def sync(
    pool: asyncpg.Pool, keyring: KeyRing, store: CertificateStore
) -> CertificateSync:
    return CertificateSync(
        CertificateRepository(pool, timeout_s=DB_TIMEOUT_S), keyring, store
    )


def presented(store: CertificateStore, ca: trustme.CA, name: str) -> bytes:
    peer, _ = handshake(store.server_context, ca, name)
    return peer


async def test_full_sync_serves_a_certificate_nobody_announced(
    sync: CertificateSync,
    store: CertificateStore,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    ca: trustme.CA,
    domain: Domain,
) -> None:
    """A stored certificate whose event was missed is served after a full sync."""
    cert = ca.issue_cert(domain.name)
    await records.store_certificate(pool, keyring, domain.sid, cert)

    await sync.sync_all()

    assert presented(store, ca, domain.name) == leaf_der(cert)


async def test_full_sync_follows_replacement_and_deletion(
    sync: CertificateSync,
    store: CertificateStore,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    ca: trustme.CA,
    domain: Domain,
) -> None:
    """A replaced certificate is rebuilt and a deleted one is dropped."""
    await records.store_certificate(
        pool, keyring, domain.sid, ca.issue_cert(domain.name)
    )
    await sync.sync_all()
    replacement = ca.issue_cert(domain.name)
    await records.store_certificate(pool, keyring, domain.sid, replacement)

    await sync.sync_all()
    assert presented(store, ca, domain.name) == leaf_der(replacement)

    await pool.execute(
        "DELETE FROM domain_certificates WHERE domain_sid = $1", domain.sid
    )
    await sync.sync_all()
    assert domain.name not in store.domain_names()


async def test_unusable_certificate_keeps_the_previous_one(
    sync: CertificateSync,
    store: CertificateStore,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    ca: trustme.CA,
    domain: Domain,
    shop: Shop,
) -> None:
    """A key sealed for another row is refused; the domain keeps its old certificate."""
    good = ca.issue_cert(domain.name)
    await records.store_certificate(pool, keyring, domain.sid, good)
    await sync.sync_all()
    await records.store_certificate(
        pool, keyring, domain.sid, ca.issue_cert(domain.name)
    )
    await pool.execute(
        "UPDATE domain_certificates SET private_key_sealed = ("
        " SELECT private_key_sealed FROM domain_certificates WHERE domain_sid = $2)"
        " WHERE domain_sid = $1",
        domain.sid,
        shop.domain_sid,
    )

    await sync.sync_all()

    assert presented(store, ca, domain.name) == leaf_der(good)


async def test_periodic_resync_heals_without_events(
    sync: CertificateSync,
    store: CertificateStore,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    ca: trustme.CA,
    domain: Domain,
) -> None:
    """The re-sync timer picks up a certificate stored after it started."""
    resync = asyncio.create_task(sync.resync_forever(RESYNC_INTERVAL_S))

    async def served() -> bool:
        return domain.name in store.domain_names()

    try:
        await records.store_certificate(
            pool, keyring, domain.sid, ca.issue_cert(domain.name)
        )
        await until(served, timeout_s=RESYNC_TIMEOUT_S)
    finally:
        resync.cancel()
        await asyncio.wait([resync])


async def test_expiry_is_reported_once_as_it_approaches_and_passes(
    sync: CertificateSync,
    pool: asyncpg.Pool,
    keyring: KeyRing,
    ca: trustme.CA,
    domain: Domain,
) -> None:
    """Warning 30131 is logged once inside the window, then an error once expired."""
    await records.store_certificate(
        pool, keyring, domain.sid, ca.issue_cert(domain.name)
    )
    await sync.sync_all()
    not_after = await pool.fetchval(
        "SELECT not_after FROM domain_certificates WHERE domain_sid = $1", domain.sid
    )

    with structlog.testing.capture_logs() as logs:
        sync.report_expiry(not_after - timedelta(days=60))
        sync.report_expiry(not_after - timedelta(days=2))
        sync.report_expiry(not_after - timedelta(days=1))
        sync.report_expiry(not_after + timedelta(seconds=1))

    events = [(e["event"], e.get("code")) for e in logs if e["domain"] == domain.name]
    assert events == [("certificate_expiring", 30131), ("certificate_expired", None)]
