"""Twilio-format resource identifiers: two upper-case letters and 32 hex digits."""

from __future__ import annotations

import re
import uuid

_SID = re.compile(r"^[A-Z]{2}[0-9a-fA-F]{32}$")

ACCOUNT = "AC"
MESSAGE = "SM"
SERVICE = "MG"
PHONE_NUMBER = "PN"
DOMAIN = "DN"
CERTIFICATE = "CW"
DOMAIN_CONFIG = "ZK"
API_KEY = "SK"


def new_sid(prefix: str) -> str:
    """Return a fresh random SID with the given two-letter prefix."""
    return prefix + uuid.uuid4().hex


def is_sid(value: str, prefix: str) -> bool:
    """Tell whether ``value`` is a well-formed SID of the given kind."""
    return bool(_SID.match(value)) and value[:2] == prefix
