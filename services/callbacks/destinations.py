"""Where each kind of webhook goes, read from the account's own rows."""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.db import DbConn

from .payloads import MessageParties

_CLICK_URL = """
SELECT config.callback_url
FROM domain_configs AS config
JOIN domains AS domain ON domain.sid = config.domain_sid
WHERE config.domain_sid = $1 AND domain.account_sid = $2
"""

# Twilio prefers the message's StatusCallback over its service's.
_STATUS_TARGET = """
SELECT coalesce(message.status_callback, service.status_callback) AS url,
       message.to_address, message.from_address, message.messaging_service_sid
FROM messages AS message
LEFT JOIN messaging_services AS service
       ON service.sid = message.messaging_service_sid
WHERE message.sid = $1 AND message.account_sid = $2
"""


@dataclass(frozen=True)
class StatusTarget:
    """A status callback's URL and the message fields it repeats."""

    url: str
    parties: MessageParties


async def click_callback_url(
    conn: DbConn, domain_sid: str, account_sid: str
) -> str | None:
    """The domain's ``CallbackUrl``, or ``None`` when it has none."""
    url: str | None = await conn.fetchval(_CLICK_URL, domain_sid, account_sid)
    return url or None


async def status_target(
    conn: DbConn, message_sid: str, account_sid: str
) -> StatusTarget | None:
    """The message's status callback target, or ``None`` when it has none."""
    row = await conn.fetchrow(_STATUS_TARGET, message_sid, account_sid)
    if row is None or not row["url"]:
        return None
    parties = MessageParties(
        to=row["to_address"],
        from_=row["from_address"],
        messaging_service_sid=row["messaging_service_sid"],
    )
    return StatusTarget(url=row["url"], parties=parties)
