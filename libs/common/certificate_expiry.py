"""When a domain's certificate should worry its owner (Twilio's warning 30131)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

EXPIRING_SOON = 30131

ExpiryStatus = Literal["valid", "expiring", "expired"]


def expiry_status(
    not_after: datetime, now: datetime, window: timedelta
) -> ExpiryStatus:
    """``expired`` past ``not_after``, ``expiring`` within ``window`` of it."""
    if now >= not_after:
        return "expired"
    if not_after - now <= window:
        return "expiring"
    return "valid"
