"""Messaging Services: a named sender pool with its own callbacks and defaults."""

from __future__ import annotations

from typing import Any

import asyncpg

from libs.common import sids
from libs.common.db import transaction, translate_db_errors
from libs.common.errors import InvalidParameterError, NotFoundError

from . import forms
from .render import iso8601

MAX_FRIENDLY_NAME = 64
# Twilio names no code for deleting a service that is still in use.
SERVICE_IN_USE = 20001
USECASES = (
    "notifications",
    "marketing",
    "verification",
    "discussion",
    "poll",
    "undeclared",
)
SCAN_MESSAGE_CONTENT = ("inherit", "enable", "disable")
# The values a parameter of each enumerated kind may take.
_CHOICES: dict[str, tuple[str, ...]] = {
    "method": ("GET", "POST"),
    "usecase": USECASES,
    "scan": SCAN_MESSAGE_CONTENT,
}

# Parameters kept as-is in ``attributes``: (form name, field, kind, default).
_ATTRIBUTES: tuple[tuple[str, str, str, Any], ...] = (
    ("InboundRequestUrl", "inbound_request_url", "url", None),
    ("InboundMethod", "inbound_method", "method", "POST"),
    ("FallbackUrl", "fallback_url", "url", None),
    ("FallbackMethod", "fallback_method", "method", "POST"),
    ("StickySender", "sticky_sender", "bool", True),
    ("MmsConverter", "mms_converter", "bool", True),
    ("SmartEncoding", "smart_encoding", "bool", True),
    ("ScanMessageContent", "scan_message_content", "scan", "inherit"),
    ("FallbackToLongCode", "fallback_to_long_code", "bool", True),
    ("AreaCodeGeomatch", "area_code_geomatch", "bool", True),
    ("SynchronousValidation", "synchronous_validation", "bool", False),
    ("ValidityPeriod", "validity_period", "validity", 36000),
    ("Usecase", "usecase", "usecase", "undeclared"),
    ("UseInboundWebhookOnNumber", "use_inbound_webhook_on_number", "bool", False),
)


def read_attributes(form: forms.Form, *, defaults: bool) -> dict[str, Any]:
    """The service's optional settings found in ``form`` (with defaults on create)."""
    found: dict[str, Any] = {}
    for name, field, kind, default in _ATTRIBUTES:
        if _given(form, name, kind):
            found[field] = _read(form, name, kind)
        elif defaults:
            found[field] = default
    return found


def _given(form: forms.Form, name: str, kind: str) -> bool:
    """Whether ``form`` sets the parameter.

    An empty URL clears its setting; an empty ``ValidityPeriod`` is taken as
    not given, so create keeps the default and update the current value.
    """
    if kind == "validity":
        return bool(forms.text(form, name))
    return name in form


def _read(form: forms.Form, name: str, kind: str) -> Any:
    if kind == "url":
        return forms.url(form, name, 21609)
    if kind == "bool":
        return forms.boolean(form, name)
    if kind == "validity":
        return validity_period(forms.integer(form, name, 90007))
    value = forms.text(form, name)
    choices = _CHOICES[kind]
    if value not in choices:
        raise InvalidParameterError(
            20001, f"{name} must be one of {', '.join(choices)}."
        )
    return value


def validity_period(value: int | None) -> int | None:
    """Seconds a message may wait in the queue: 1 to 36000 (error 90007)."""
    if value is not None and not 1 <= value <= 36000:
        raise InvalidParameterError(
            90007, "ValidityPeriod must be between 1 and 36000."
        )
    return value


def friendly_name(form: forms.Form, *, required: bool) -> str | None:
    value = forms.text(form, "FriendlyName")
    if value is None and not required:
        return None
    if not value:
        raise InvalidParameterError(20001, "Required parameter FriendlyName missing.")
    if len(value) > MAX_FRIENDLY_NAME:
        raise InvalidParameterError(20001, "FriendlyName is longer than 64 characters.")
    return value


async def create_service(
    pool: asyncpg.Pool, account_sid: str, form: forms.Form
) -> asyncpg.Record:
    name = friendly_name(form, required=True)
    attributes = read_attributes(form, defaults=True)
    callback = forms.url(form, "StatusCallback", 21609)
    with translate_db_errors():
        row = await pool.fetchrow(
            "INSERT INTO messaging_services (sid, account_sid, friendly_name,"
            " attributes, status_callback) VALUES ($1, $2, $3, $4, $5) RETURNING *",
            sids.new_sid(sids.SERVICE),
            account_sid,
            name,
            attributes,
            callback,
        )
    assert row is not None
    return row


async def fetch_service(
    pool: asyncpg.Pool, account_sid: str, sid: str
) -> asyncpg.Record:
    """The account's service, or 20404 (another account's service is not found)."""
    with translate_db_errors():
        row = await pool.fetchrow(
            "SELECT * FROM messaging_services WHERE sid = $1 AND account_sid = $2",
            sid,
            account_sid,
        )
    if row is None:
        raise NotFoundError(f"/v1/Services/{sid}")
    return row


async def update_service(
    pool: asyncpg.Pool, account_sid: str, sid: str, form: forms.Form
) -> asyncpg.Record:
    await fetch_service(pool, account_sid, sid)
    name = friendly_name(form, required=False)
    changes = read_attributes(form, defaults=False)
    has_callback = "StatusCallback" in form
    callback = forms.url(form, "StatusCallback", 21609)
    with translate_db_errors():
        row = await pool.fetchrow(
            "UPDATE messaging_services SET friendly_name = coalesce($3, friendly_name),"
            " attributes = attributes || $4::jsonb,"
            " status_callback = CASE WHEN $5 THEN $6 ELSE status_callback END,"
            " date_updated = now() WHERE sid = $1 AND account_sid = $2 RETURNING *",
            sid,
            account_sid,
            name,
            changes,
            has_callback,
            callback,
        )
    assert row is not None
    return row


async def delete_service(pool: asyncpg.Pool, account_sid: str, sid: str) -> None:
    """Delete the service, refused (20001) while messages through it wait to go.

    The service row is locked first.  A message create naming the service
    holds a key-share lock on that row for its foreign key until it commits,
    so it either commits before the count below sees it, or waits and then
    finds the service gone (21701): no message slips in between.
    """
    async with transaction(pool) as conn:
        found = await conn.fetchval(
            "SELECT sid FROM messaging_services WHERE sid = $1 AND account_sid = $2"
            " FOR UPDATE",
            sid,
            account_sid,
        )
        if found is None:
            raise NotFoundError(f"/v1/Services/{sid}")
        waiting = await conn.fetchrow(_WAITING_MESSAGES, sid)
        assert waiting is not None
        if waiting["total"]:
            raise InvalidParameterError(
                SERVICE_IN_USE,
                _in_use_message(sid, waiting["scheduled"], waiting["total"]),
            )
        await conn.execute("DELETE FROM messaging_services WHERE sid = $1", sid)


# Messages through the service that are not yet handed to a carrier: they
# still need its sender pool.  Only the scheduled ones can be canceled.
# Served by the partial index messages_service_waiting.
_WAITING_MESSAGES = (
    "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'scheduled'"
    " AND dispatch_state = 'pending') AS scheduled FROM messages"
    " WHERE messaging_service_sid = $1 AND dispatch_state IN ('pending', 'due')"
)


def _in_use_message(sid: str, scheduled: int, total: int) -> str:
    """Why the service cannot be deleted yet, and what to do about it."""
    if scheduled:
        return (
            f"Messaging Service {sid} has {_messages(scheduled)} scheduled."
            " Cancel them (Status=canceled) before deleting the service."
        )
    return (
        f"Messaging Service {sid} has {_messages(total)} waiting to be sent."
        " Delete the service once they have been sent."
    )


def _messages(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"


async def list_services(
    pool: asyncpg.Pool, account_sid: str, limit: int, offset: int
) -> list[asyncpg.Record]:
    with translate_db_errors():
        return await pool.fetch(
            "SELECT * FROM messaging_services WHERE account_sid = $1"
            " ORDER BY date_created, sid LIMIT $2 OFFSET $3",
            account_sid,
            limit,
            offset,
        )


def render_service(row: asyncpg.Record, base_url: str) -> dict[str, Any]:
    """The v1 Service resource, as Twilio's SDKs read it."""
    url = f"{base_url}/v1/Services/{row['sid']}"
    attributes = dict(row["attributes"])
    links = {
        name: f"{url}/{path}"
        for name, path in (
            ("phone_numbers", "PhoneNumbers"),
            ("short_codes", "ShortCodes"),
            ("alpha_senders", "AlphaSenders"),
            ("messages", "Messages"),
            ("us_app_to_person", "Compliance/Usa2p"),
            ("us_app_to_person_usecases", "Compliance/Usa2p/Usecases"),
            ("channel_senders", "ChannelSenders"),
            ("destination_alpha_senders", "DestinationAlphaSenders"),
        )
    }
    return {
        "sid": row["sid"],
        "account_sid": row["account_sid"],
        "friendly_name": row["friendly_name"],
        "date_created": iso8601(row["date_created"]),
        "date_updated": iso8601(row["date_updated"]),
        **{
            field: attributes.get(field, default)
            for _, field, _, default in _ATTRIBUTES
        },
        "status_callback": row["status_callback"],
        "us_app_to_person_registered": False,
        "url": url,
        "links": links,
    }
