"""Versioned schemas of every event Pigeon publishes.

Each event class names its topic and schema version.  The wire form is the
model's JSON; the ``schema`` field (``"<topic>/<version>"``) lets a consumer
refuse a version it does not understand instead of misreading it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

MESSAGE_SCHEDULED = "message.scheduled"
MESSAGE_DUE = "message.due"
MESSAGE_STATUS = "message.status"
LINK_CLICKED = "link.clicked"
DOMAIN_CERTIFICATE = "domain.certificate"


def _now() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Fields every event carries; subclasses set ``topic`` and ``version``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    topic: ClassVar[str]
    version: ClassVar[int] = 1

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=_now)
    schema_id: str = Field(default="", alias="schema")

    def model_post_init(self, __context: object) -> None:
        object.__setattr__(self, "schema_id", f"{self.topic}/{self.version}")

    def key(self) -> str:
        """The partition key; events about one message stay in order."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Event:
        return cls.model_validate_json(raw)


class MessageScheduled(Event):
    """A message was accepted; it is due at ``send_at`` (now, when absent)."""

    topic: ClassVar[str] = MESSAGE_SCHEDULED

    message_sid: str
    account_sid: str
    send_at: datetime | None = None

    def key(self) -> str:
        return self.message_sid


class MessageDue(Event):
    """A message's time has come; the dispatcher hands it to a carrier."""

    topic: ClassVar[str] = MESSAGE_DUE

    message_sid: str
    account_sid: str

    def key(self) -> str:
        return self.message_sid


class MessageStatusChanged(Event):
    """A message moved to a new status (sent, failed, canceled, ...)."""

    topic: ClassVar[str] = MESSAGE_STATUS

    message_sid: str
    account_sid: str
    status: str
    error_code: int | None = None
    error_message: str | None = None

    def key(self) -> str:
        return self.message_sid


class LinkClicked(Event):
    """A recipient opened a short link."""

    topic: ClassVar[str] = LINK_CLICKED

    code: str
    domain_sid: str
    message_sid: str
    account_sid: str
    messaging_service_sid: str | None
    to: str
    from_: str | None = Field(alias="from")
    link: str
    shortened_link: str
    link_created_at: datetime
    clicked_at: datetime
    user_agent: str | None

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    def key(self) -> str:
        return self.message_sid


class CertificateChanged(Event):
    """What a domain serves changed: its certificate was uploaded, replaced or
    deleted, the domain gained or lost its verification, or it was deleted.

    Redirectors read the domain's row again whatever the action.
    """

    topic: ClassVar[str] = DOMAIN_CERTIFICATE

    domain_sid: str
    domain_name: str
    action: Literal["uploaded", "deleted", "verified", "unverified"]

    def key(self) -> str:
        return self.domain_sid


EVENT_TYPES: dict[str, type[Event]] = {
    cls.topic: cls
    for cls in (
        MessageScheduled,
        MessageDue,
        MessageStatusChanged,
        LinkClicked,
        CertificateChanged,
    )
}
