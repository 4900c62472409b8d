"""Carrier adapters: how a due message leaves Pigeon.

``WebhookCarrier`` POSTs the message as JSON to a URL; ``SinkCarrier`` accepts
everything and only logs, for development.  A carrier is called at most once
per message: the only retry is of a connection that was never established,
when the carrier cannot have seen the request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import orjson
import structlog

from libs.common.errors import ConfigurationError

from .settings import SchedulerSettings

log = structlog.get_logger(__name__)

CONNECT_RETRY_DELAY_S = 0.5
MAX_ERROR_BODY = 500


@dataclass(frozen=True)
class OutgoingMessage:
    sid: str
    account_sid: str
    messaging_service_sid: str | None
    from_: str | None
    to: str
    body: str
    num_segments: int


@dataclass(frozen=True)
class CarrierResult:
    """``error_code`` is ``None`` when the carrier accepted the message."""

    error_code: int | None = None
    error_message: str | None = None


# Twilio's codes for a carrier that refused the message or could not be reached.
CARRIER_REFUSED = 30007
CARRIER_UNREACHABLE = 30008


class Carrier(Protocol):
    async def send(self, message: OutgoingMessage) -> CarrierResult: ...

    async def close(self) -> None: ...


class SinkCarrier:
    """Accepts every message; for development and demonstrations."""

    async def send(self, message: OutgoingMessage) -> CarrierResult:
        log.info("carrier_sink_accepted", sid=message.sid, to=message.to)
        return CarrierResult()

    async def close(self) -> None:
        return None


class WebhookCarrier:
    """POSTs each message as JSON to ``carrier_url``; 2xx means accepted."""

    def __init__(self, settings: SchedulerSettings) -> None:
        if not settings.carrier_url:
            raise ConfigurationError(
                "PIGEON_CARRIER_URL is required by the webhook carrier"
            )
        self._url = settings.carrier_url
        self._retries = settings.carrier_connect_retries
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(
                total=settings.carrier_total_timeout_s,
                connect=settings.carrier_connect_timeout_s,
            )
        )

    async def send(self, message: OutgoingMessage) -> CarrierResult:
        body = orjson.dumps(_payload(message))
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.sid}
        for attempt in range(self._retries + 1):
            try:
                async with self._session.post(
                    self._url, data=body, headers=headers
                ) as reply:
                    return await _result(reply)
            except aiohttp.ClientConnectorError as exc:
                log.warning(
                    "carrier_connect_failed",
                    sid=message.sid,
                    attempt=attempt,
                    error=str(exc),
                )
                await asyncio.sleep(CONNECT_RETRY_DELAY_S)
            except (aiohttp.ClientError, TimeoutError) as exc:
                return CarrierResult(
                    CARRIER_UNREACHABLE, f"carrier request failed: {exc}"
                )
        return CarrierResult(CARRIER_UNREACHABLE, "carrier could not be reached")

    async def close(self) -> None:
        await self._session.close()


async def _result(reply: aiohttp.ClientResponse) -> CarrierResult:
    if 200 <= reply.status < 300:
        return CarrierResult()
    text = (await reply.text(errors="replace"))[:MAX_ERROR_BODY]
    return CarrierResult(CARRIER_REFUSED, f"carrier answered {reply.status}: {text}")


def _payload(message: OutgoingMessage) -> dict[str, Any]:
    return {
        "sid": message.sid,
        "account_sid": message.account_sid,
        "messaging_service_sid": message.messaging_service_sid,
        "from": message.from_,
        "to": message.to,
        "body": message.body,
        "num_segments": message.num_segments,
    }


def create_carrier(settings: SchedulerSettings) -> Carrier:
    if settings.carrier == "webhook":
        return WebhookCarrier(settings)
    return SinkCarrier()
