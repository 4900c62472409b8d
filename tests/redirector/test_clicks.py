"""Click events: what they carry, and their publication to the real Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from prometheus_client import REGISTRY

from libs.common.kafka import EventProducer
from libs.common.settings import CommonSettings
from services.redirector.clicks import ClickPublisher, click_event
from services.redirector.links import DomainPolicy, Link

from . import records
from .conftest import ClickLog, Shop

FLUSH_TIMEOUT_S = 10.0
CLICKED_AT = datetime(2025, 11, 28, 9, 30, tzinfo=UTC)


def make_link(shop: Shop, *, disable_https: bool = False) -> Link:
    domain = DomainPolicy(shop.domain_sid, "ls.owlshoes.test", None, disable_https)
    return Link(
        code=records.new_code(),
        domain=domain,
        original_url="https://owlshoes.test/boots?size=9&utm_source=sms",
        created_at=CLICKED_AT - timedelta(hours=2),
        expires_at=CLICKED_AT + timedelta(days=7),
        message_sid=shop.message_sid,
        account_sid=shop.account_sid,
        messaging_service_sid="MG" + "4" * 32,
        to=records.TO,
        from_=records.FROM,
    )


def dropped_clicks() -> float:
    value = REGISTRY.get_sample_value(
        "pigeon_redirector_click_events_total", {"result": "dropped"}
    )
    return value or 0.0


@pytest.fixture(scope="module")
async def producer(settings: CommonSettings) -> AsyncIterator[EventProducer]:
    started = EventProducer(settings)
    await started.start()
    yield started
    await started.stop()


def test_click_event_describes_the_link_and_the_request(shop: Shop) -> None:
    """The event carries the link's facts, the time and the user agent."""
    link = make_link(shop)

    event = click_event(link, clicked_at=CLICKED_AT, user_agent="Phone/1.0")

    assert event.link == link.original_url
    assert event.shortened_link == f"https://ls.owlshoes.test/{link.code}"
    assert event.link_created_at == link.created_at
    assert (event.clicked_at, event.user_agent) == (CLICKED_AT, "Phone/1.0")
    assert (event.to, event.from_) == (records.TO, records.FROM)
    assert event.messaging_service_sid == link.messaging_service_sid
    assert orjson.loads(event.to_bytes())["from"] == records.FROM


def test_http_only_domain_gives_an_http_short_link(shop: Shop) -> None:
    """On a domain that disabled HTTPS, the short link reported is http://."""
    link = make_link(shop, disable_https=True)

    event = click_event(link, clicked_at=CLICKED_AT, user_agent=None)

    assert event.shortened_link.startswith("http://ls.owlshoes.test/")


async def test_submitted_clicks_reach_kafka(
    producer: EventProducer, shop: Shop, click_log: ClickLog
) -> None:
    """A submitted event is on the link.clicked topic once flushed."""
    publisher = ClickPublisher(producer, max_pending=10)
    link = make_link(shop)

    publisher.submit(click_event(link, clicked_at=CLICKED_AT, user_agent=None))
    await publisher.flush(FLUSH_TIMEOUT_S)

    assert publisher.pending == 0
    assert (await click_log.wait_for(link.code)).message_sid == shop.message_sid


async def test_clicks_beyond_the_bound_are_dropped(
    producer: EventProducer, shop: Shop
) -> None:
    """With max_pending events in flight, further ones are counted and dropped."""
    publisher = ClickPublisher(producer, max_pending=1)
    before = dropped_clicks()

    for _ in range(3):
        link = make_link(shop)
        publisher.submit(click_event(link, clicked_at=CLICKED_AT, user_agent=None))

    assert publisher.pending == 1
    assert dropped_clicks() == before + 2
    await publisher.flush(FLUSH_TIMEOUT_S)
