"""The callbacks process on real Kafka and PostgreSQL, delivering to a receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import asyncpg
import orjson
import pytest
from twilio.request_validator import RequestValidator

from libs.common.crypto import KeyRing
from libs.common.kafka import EventProducer
from services.callbacks.sender import IDEMPOTENCY_HEADER, SIGNATURE_HEADER
from tests.support.processes import ServiceProcess
from tests.support.receiver import Receiver

from .records import FROM, TO, click, insert_shop, status
from .service import running_callbacks, wait_for_state

# Long enough for a second, duplicate delivery to show up if there were one.
QUIET_PERIOD_S = 1.5


@pytest.fixture(scope="module")
async def callbacks(
    callbacks_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ServiceProcess]:
    """One callbacks process, allowed to reach 127.0.0.0/8, for this module."""
    log_dir = tmp_path_factory.mktemp("callbacks")
    async with running_callbacks(callbacks_env, log_dir) as process:
        yield process


@pytest.mark.usefixtures("callbacks")
async def test_click_is_posted_as_signed_json(
    pool: asyncpg.Pool, keyring: KeyRing, producer: EventProducer, receiver: Receiver
) -> None:
    """A click reaches the domain's CallbackUrl as JSON Twilio's validator accepts."""
    shop = await insert_shop(pool, keyring, click_url=receiver.url("/clicks?shop=1"))
    event = click(shop)

    await producer.publish(event)
    [request] = await receiver.wait_for("/clicks")

    body = orjson.loads(request.body)
    assert body["event_type"] == "click"
    assert body["sms_sid"] == shop.message_sid
    assert body["event_id"] == str(event.event_id)
    assert (body["from"], body["to"]) == (FROM, TO)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers[IDEMPOTENCY_HEADER] == str(event.event_id)
    assert request.headers["User-Agent"].startswith("Pigeon-Webhooks/")
    assert "bodySHA256=" in request.url
    assert RequestValidator(shop.auth_token).validate(
        request.url, request.body.decode(), request.headers[SIGNATURE_HEADER]
    )
    await wait_for_state(pool, event.event_id, "delivered")


@pytest.mark.usefixtures("callbacks")
async def test_status_is_posted_as_signed_form_to_the_service_callback(
    pool: asyncpg.Pool, keyring: KeyRing, producer: EventProducer, receiver: Receiver
) -> None:
    """Without a message StatusCallback the service's receives the form body."""
    shop = await insert_shop(
        pool, keyring, click_url=None, service_status_url=receiver.url("/service")
    )

    await producer.publish(status(shop, "undelivered", error_code=30005))
    [request] = await receiver.wait_for("/service")

    params = dict(parse_qsl(request.body.decode()))
    assert params["MessageSid"] == shop.message_sid
    assert params["MessageStatus"] == params["SmsStatus"] == "undelivered"
    assert params["MessagingServiceSid"] == shop.service_sid
    assert (params["From"], params["To"]) == (FROM, TO)
    assert params["ErrorCode"] == "30005"
    assert "Body" not in params
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert RequestValidator(shop.auth_token).validate(
        request.url, params, request.headers[SIGNATURE_HEADER]
    )


@pytest.mark.usefixtures("callbacks")
async def test_message_status_callback_wins_over_the_service(
    pool: asyncpg.Pool, keyring: KeyRing, producer: EventProducer, receiver: Receiver
) -> None:
    """The message's own StatusCallback is used when both are set."""
    shop = await insert_shop(
        pool,
        keyring,
        click_url=None,
        service_status_url=receiver.url("/service"),
        message_status_url=receiver.url("/message"),
    )

    await producer.publish(status(shop, "sent"))
    [request] = await receiver.wait_for("/message")

    assert "ErrorCode" not in dict(parse_qsl(request.body.decode()))
    assert receiver.on("/service") == []


@pytest.mark.usefixtures("callbacks")
async def test_failing_receiver_is_retried_with_the_same_token(
    pool: asyncpg.Pool, keyring: KeyRing, producer: EventProducer, receiver: Receiver
) -> None:
    """Two 500s are retried and the third attempt succeeds, all with one token."""
    shop = await insert_shop(pool, keyring, click_url=receiver.url("/flaky"))
    receiver.fail_next("/flaky", 500, 500)
    event = click(shop)

    await producer.publish(event)
    requests = await receiver.wait_for("/flaky", count=3)

    tokens = {request.headers[IDEMPOTENCY_HEADER] for request in requests}
    assert tokens == {str(event.event_id)}
    delivered = await wait_for_state(pool, event.event_id, "delivered")
    assert delivered["attempts"] == 3


@pytest.mark.usefixtures("callbacks")
async def test_receiver_that_never_succeeds_fails_after_max_attempts(
    pool: asyncpg.Pool, keyring: KeyRing, producer: EventProducer, receiver: Receiver
) -> None:
    """After the configured attempts the row is failed with the last error."""
    shop = await insert_shop(pool, keyring, click_url=receiver.url("/down"))
    receiver.fail_next("/down", *[503] * 20)
    event = click(shop)

    await producer.publish(event)
    failed = await wait_for_state(pool, event.event_id, "failed")

    assert failed["attempts"] == 5
    assert failed["last_error"] == "HTTP 503"
    assert len(receiver.on("/down")) == 5


@pytest.mark.usefixtures("callbacks")
async def test_event_published_twice_is_delivered_once(
    pool: asyncpg.Pool, keyring: KeyRing, producer: EventProducer, receiver: Receiver
) -> None:
    """A redelivered event id queues nothing new and sends nothing new."""
    shop = await insert_shop(pool, keyring, click_url=receiver.url("/once"))
    event = click(shop)
    later = click(shop)

    await producer.publish(event)
    await producer.publish(event)
    # Same message, same partition: once this one arrives the duplicate
    # before it has been consumed.
    await producer.publish(later)
    await receiver.wait_for("/once", count=2)
    await asyncio.sleep(QUIET_PERIOD_S)

    tokens = [r.headers[IDEMPOTENCY_HEADER] for r in receiver.on("/once")]
    assert sorted(tokens) == sorted([str(event.event_id), str(later.event_id)])
    rows = await pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE event_id = $1", event.event_id
    )
    assert rows == 1


@pytest.mark.usefixtures("callbacks")
async def test_domain_without_callback_url_queues_nothing(
    pool: asyncpg.Pool, keyring: KeyRing, producer: EventProducer, receiver: Receiver
) -> None:
    """A click on a domain with no CallbackUrl is consumed and dropped."""
    quiet = await insert_shop(pool, keyring, click_url=None)
    loud = await insert_shop(pool, keyring, click_url=receiver.url("/loud"))
    dropped = click(quiet)
    dropped = dropped.model_copy(update={"message_sid": loud.message_sid})

    await producer.publish(dropped)
    await producer.publish(click(loud))
    await receiver.wait_for("/loud")

    rows = await pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE event_id = $1",
        dropped.event_id,
    )
    assert rows == 0


async def test_metrics_count_deliveries(callbacks: ServiceProcess) -> None:
    """The health server's /metrics reports settled deliveries by outcome."""
    url = f"http://127.0.0.1:{callbacks.health_port}/metrics"

    text = await asyncio.to_thread(_fetch_text, url)

    assert 'pigeon_webhook_deliveries_total{kind="click",outcome="delivered"}' in text
    assert 'pigeon_webhook_deliveries_total{kind="click",outcome="failed"}' in text
    assert "pigeon_webhook_attempt_seconds_bucket" in text


def _fetch_text(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        text: str = response.read().decode()
    return text
