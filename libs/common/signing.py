"""Twilio's ``X-Twilio-Signature`` for outbound webhooks.

The signature is base64(HMAC-SHA1(auth token, url + sorted params)).  For a
form body each parameter name is followed by its sorted values.  For a JSON
body the URL carries ``bodySHA256=<hex sha256 of the body>`` in its query and
no parameters are appended.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit


def compute_signature(
    auth_token: str, url: str, params: Mapping[str, str | Sequence[str]] | None = None
) -> str:
    """Sign ``url`` and form ``params`` the way Twilio's validators expect."""
    payload = url
    for name in sorted(params or {}):
        value = (params or {})[name]
        values = [value] if isinstance(value, str) else list(value)
        for item in sorted(set(values)):
            payload += name + item
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def with_body_hash(url: str, body: bytes) -> str:
    """Append ``bodySHA256`` to the URL's query, as Twilio does for JSON bodies."""
    parts = urlsplit(url)
    digest = "bodySHA256=" + hashlib.sha256(body).hexdigest()
    query = f"{parts.query}&{digest}" if parts.query else digest
    return urlunsplit(parts._replace(query=query))


def sign_json(auth_token: str, url: str, body: bytes) -> tuple[str, str]:
    """Return ``(url to POST to, signature)`` for a JSON webhook body."""
    signed_url = with_body_hash(url, body)
    return signed_url, compute_signature(auth_token, signed_url)
