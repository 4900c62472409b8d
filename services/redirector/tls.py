"""TLS for many domains on one listener: a context per domain, chosen by SNI.

The listener's server context has no certificate of its own.  Its SNI callback
looks the requested name up and swaps that domain's context into the
connection; a name without a certificate ends the handshake with an
``unrecognized_name`` alert (RFC 6066, section 3).  Swapping a domain's context
replaces one dictionary entry, so handshakes already under way keep the
context they started with.
"""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile
import weakref
from pathlib import Path

import structlog
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from libs.common.errors import PermanentError

log = structlog.get_logger(__name__)

# A memory-backed file system, when there is one, keeps key files off disks;
# each build makes its own directory there, private to this user.
_MEMORY_TMP_ROOT = Path("/dev/shm")  # noqa: S108
_ONE_TIME_PASSWORD_BYTES = 32
_PRIVATE_FILE_MODE = 0o600


class CertificateError(PermanentError):
    """A stored certificate or private key cannot be served."""


def new_server_context() -> ssl.SSLContext:
    """A TLS server context with Pigeon's protocol floor and no certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def build_domain_context(chain_pem: str, key_der: bytes) -> ssl.SSLContext:
    """A server context presenting ``chain_pem`` (leaf first) with its key.

    ``ssl`` loads keys only from files, so the key is written encrypted under a
    one-time password to a private directory, loaded, and deleted at once.
    """
    password = secrets.token_bytes(_ONE_TIME_PASSWORD_BYTES)
    encrypted_key = _encrypt_key(key_der, password)
    context = new_server_context()
    with tempfile.TemporaryDirectory(prefix="pigeon-tls-", dir=_tmp_root()) as folder:
        chain_file = _write_private(Path(folder, "chain.pem"), chain_pem.encode())
        key_file = _write_private(Path(folder, "key.pem"), encrypted_key)
        try:
            context.load_cert_chain(chain_file, key_file, password=password)
        except ssl.SSLError as exc:
            raise CertificateError(f"certificate refused by TLS: {exc}") from exc
    return context


def _encrypt_key(key_der: bytes, password: bytes) -> bytes:
    try:
        key = serialization.load_der_private_key(key_der, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CertificateError(f"private key unreadable: {exc}") from exc
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )


def _tmp_root() -> str | None:
    if _MEMORY_TMP_ROOT.is_dir() and os.access(_MEMORY_TMP_ROOT, os.W_OK):
        return str(_MEMORY_TMP_ROOT)
    return None


def _write_private(path: Path, content: bytes) -> Path:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    with os.fdopen(os.open(path, flags, _PRIVATE_FILE_MODE), "wb") as file:
        file.write(content)
    return path


class CertificateStore:
    """The contexts of every domain served, behind one SNI-selecting context."""

    def __init__(self) -> None:
        self._contexts: dict[str, ssl.SSLContext] = {}
        # Replaced contexts stay alive while connections use them.
        self._names: weakref.WeakKeyDictionary[ssl.SSLContext, str] = (
            weakref.WeakKeyDictionary()
        )
        self.server_context = new_server_context()
        self.server_context.sni_callback = self._select

    def __len__(self) -> int:
        return len(self._contexts)

    def install(self, domain_name: str, context: ssl.SSLContext) -> None:
        """Serve ``context`` for ``domain_name`` to handshakes from now on."""
        name = domain_name.lower()
        self._names[context] = name
        self._contexts[name] = context

    def remove(self, domain_name: str) -> bool:
        """Stop serving ``domain_name``; tell whether it was served."""
        return self._contexts.pop(domain_name.lower(), None) is not None

    def domain_names(self) -> set[str]:
        """The names currently served."""
        return set(self._contexts)

    def domain_of(self, context: ssl.SSLContext) -> str | None:
        """The domain a connection's selected context belongs to."""
        return self._names.get(context)

    def _select(
        self, connection: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext
    ) -> int | None:
        name = (server_name or "").rstrip(".").lower()
        context = self._contexts.get(name)
        if context is None:
            log.debug("tls_unknown_server_name", server_name=server_name)
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        connection.context = context
        return None
