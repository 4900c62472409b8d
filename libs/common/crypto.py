"""Sealing secrets at rest with AES-256-GCM under the operator's master keys.

``PIGEON_MASTER_KEY`` holds one or more ``<key id>:<base64 of 32 bytes>`` pairs
separated by commas.  The first key seals; every key unseals, so a key can be
rotated by putting the new one first and re-sealing the stored secrets.  A
sealed value is ``nonce (12 bytes) || ciphertext || tag`` and is stored beside
the id of the key that sealed it.  The associated data binds a ciphertext to
the row it belongs to, so one row's secret cannot be pasted into another.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import ConfigurationError, PermanentError

_NONCE_BYTES = 12
_KEY_BYTES = 32


class UnsealError(PermanentError):
    """A sealed value could not be opened: wrong key, or tampered with."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes


class KeyRing:
    """The master keys, the first of which seals new values."""

    def __init__(self, keys: dict[str, bytes], active: str) -> None:
        if active not in keys:
            raise ConfigurationError(f"active master key {active!r} is not in the ring")
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active_key_id = active

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        """Build a ring from ``id:base64[,id:base64...]``."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            kid, sep, encoded = part.partition(":")
            if not sep or not kid:
                raise ConfigurationError("master key entries look like '<id>:<base64>'")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error as exc:
                raise ConfigurationError(f"master key {kid!r} is not base64") from exc
            if len(key) != _KEY_BYTES:
                raise ConfigurationError(f"master key {kid!r} must be 32 bytes")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise ConfigurationError("no master key configured")
        return cls(keys, order[0])

    def seal(self, plaintext: bytes, context: str) -> Sealed:
        """Encrypt under the active key, bound to ``context`` (e.g. a row's SID)."""
        nonce = os.urandom(_NONCE_BYTES)
        cipher = self._ciphers[self.active_key_id]
        blob = nonce + cipher.encrypt(nonce, plaintext, context.encode())
        return Sealed(self.active_key_id, blob)

    def unseal(self, sealed: Sealed, context: str) -> bytes:
        """Decrypt a value sealed by any key in the ring."""
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise UnsealError(f"master key {sealed.key_id!r} is not configured")
        nonce, body = sealed.blob[:_NONCE_BYTES], sealed.blob[_NONCE_BYTES:]
        try:
            return cipher.decrypt(nonce, body, context.encode())
        except InvalidTag as exc:
            raise UnsealError("sealed value failed authentication") from exc


def generate_master_key(key_id: str) -> str:
    """A fresh ``id:base64`` entry for ``PIGEON_MASTER_KEY``."""
    return f"{key_id}:{base64.b64encode(os.urandom(_KEY_BYTES)).decode()}"
