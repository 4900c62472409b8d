"""One webhook POST: signed as Twilio signs, bounded in time and size.

aiohttp's errors stop here: every attempt ends in an ``AttemptResult`` that
says whether the receiver took the webhook, may take it later, or never will.
"""

from __future__ import annotations

import enum
import importlib.metadata
from dataclasses import dataclass
from urllib.parse import parse_qsl

import aiohttp
from yarl import URL

from libs.common import signing

from .deliveries import Delivery
from .guard import AddressPolicy, ForbiddenDestinationError, GuardedResolver, check_url
from .payloads import FORM_CONTENT_TYPE
from .settings import CallbacksSettings
from .tokens import AuthTokens

SIGNATURE_HEADER = "X-Twilio-Signature"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


def _package_version() -> str:
    try:
        return importlib.metadata.version("pigeon")
    except importlib.metadata.PackageNotFoundError:
        return "0"


USER_AGENT = f"Pigeon-Webhooks/{_package_version()}"


class Outcome(enum.Enum):
    """Delivered; worth retrying; or refused, which no retry will change."""

    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


@dataclass(frozen=True)
class AttemptResult:
    """How one attempt ended; ``detail`` is safe to log and store."""

    outcome: Outcome
    detail: str
    status: int | None = None


@dataclass(frozen=True)
class SignedRequest:
    """The URL to POST to and the headers that go with the stored body."""

    url: str
    headers: dict[str, str]


def sign_request(delivery: Delivery, auth_token: str) -> SignedRequest:
    """Sign a delivery the way Twilio's request validators check it.

    A form body is signed as URL plus sorted parameters; a JSON body is sent
    to the URL with ``bodySHA256`` appended, and that URL alone is signed.
    """
    if delivery.content_type == FORM_CONTENT_TYPE:
        url = delivery.url
        params = dict(parse_qsl(delivery.body.decode(), keep_blank_values=True))
        signature = signing.compute_signature(auth_token, url, params)
    else:
        url, signature = signing.sign_json(auth_token, delivery.url, delivery.body)
    headers = {
        "Content-Type": delivery.content_type,
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature,
        IDEMPOTENCY_HEADER: str(delivery.event_id),
    }
    return SignedRequest(url=url, headers=headers)


def create_session(
    settings: CallbacksSettings, policy: AddressPolicy
) -> aiohttp.ClientSession:
    """An HTTP client that connects only to addresses ``policy`` permits."""
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(policy), limit=settings.webhook_concurrency
    )
    timeout = aiohttp.ClientTimeout(
        total=settings.webhook_total_timeout_s,
        sock_connect=settings.webhook_connect_timeout_s,
        sock_read=settings.webhook_read_timeout_s,
    )
    # Responses are read only as far as a status; nothing is decompressed.
    return aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    )


class WebhookSender:
    """Makes one signed attempt at a delivery."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: AuthTokens,
        policy: AddressPolicy,
        settings: CallbacksSettings,
    ) -> None:
        self._session = session
        self._tokens = tokens
        self._policy = policy
        self._response_max_bytes = settings.webhook_response_max_bytes

    async def send(self, delivery: Delivery) -> AttemptResult:
        """POST the delivery once and classify the answer.

        Raises ``PigeonError`` when the account's token cannot be had.
        """
        try:
            check_url(URL(delivery.url), self._policy)
        except (ForbiddenDestinationError, ValueError) as exc:
            return AttemptResult(Outcome.REFUSED, str(exc))
        token = await self._tokens.get(delivery.account_sid)
        try:
            return await self._post(sign_request(delivery, token), delivery.body)
        except (ForbiddenDestinationError, aiohttp.InvalidURL) as exc:
            return AttemptResult(Outcome.REFUSED, str(exc))
        except TimeoutError:
            return AttemptResult(Outcome.RETRY, "timed out")
        except aiohttp.ClientError as exc:
            return AttemptResult(Outcome.RETRY, f"{type(exc).__name__}: {exc}")

    async def _post(self, request: SignedRequest, body: bytes) -> AttemptResult:
        async with self._session.post(
            request.url, data=body, headers=request.headers, allow_redirects=False
        ) as response:
            await response.content.read(self._response_max_bytes)
            status = response.status
        if 200 <= status < 300:
            return AttemptResult(Outcome.DELIVERED, f"HTTP {status}", status)
        return AttemptResult(Outcome.RETRY, f"HTTP {status}", status)
