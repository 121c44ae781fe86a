"""The broker contract, written once. Here on the in-process broker; tests/services runs the
same tests against a real Redis (tests/services/test_chat_redis.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from core.broker import Broker, MemoryBroker, RedisBroker, make_broker

TIMEOUT = 5


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    broker = make_broker("")
    await broker.start()
    yield broker
    await broker.close()


async def test_subscribers_receive_what_is_published_after_subscribing(broker: Broker) -> None:
    await broker.publish("kindred:test:a", {"n": 0})  # before anyone listens: gone
    first = await broker.subscribe("kindred:test:a")
    second = await broker.subscribe("kindred:test:a")
    await broker.publish("kindred:test:a", {"n": 1, "text": "héron ✓", "list": [1, None]})
    for sub in (first, second):
        event = await asyncio.wait_for(sub.get(), TIMEOUT)
        assert event == {"n": 1, "text": "héron ✓", "list": [1, None]}


async def test_events_are_json_not_shared_objects(broker: Broker) -> None:
    sub = await broker.subscribe("kindred:test:json")
    event = {"when": "now", "nested": {"a": 1}}
    await broker.publish("kindred:test:json", event)
    received = await asyncio.wait_for(sub.get(), TIMEOUT)
    assert received == event and received is not event
    assert received["nested"] is not event["nested"]
    with pytest.raises(TypeError):  # what Redis could not carry, neither does memory
        await broker.publish("kindred:test:json", {"bad": object()})


async def test_order_is_kept_per_channel(broker: Broker) -> None:
    sub = await broker.subscribe("kindred:test:order")
    for n in range(200):
        await broker.publish("kindred:test:order", {"n": n})
    got = [(await asyncio.wait_for(sub.get(), TIMEOUT))["n"] for _ in range(200)]
    assert got == list(range(200))


async def test_channels_are_separate_and_unsubscribing_stops_delivery(broker: Broker) -> None:
    a = await broker.subscribe("kindred:test:one")
    b = await broker.subscribe("kindred:test:two")
    await broker.publish("kindred:test:two", {"to": "two"})
    assert await asyncio.wait_for(b.get(), TIMEOUT) == {"to": "two"}
    await broker.unsubscribe(a)
    await broker.publish("kindred:test:one", {"to": "one"})
    await broker.publish("kindred:test:two", {"to": "two again"})
    assert await asyncio.wait_for(b.get(), TIMEOUT) == {"to": "two again"}
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(a.get(), 0.2)
    await broker.unsubscribe(a)  # twice is harmless


async def test_a_full_subscriber_loses_events_instead_of_growing(broker: Broker) -> None:
    sub = await broker.subscribe("kindred:test:full", maxsize=3)
    for n in range(10):
        await broker.publish("kindred:test:full", {"n": n})
    marker = await broker.subscribe("kindred:test:full")  # unbounded enough
    await broker.publish("kindred:test:full", {"n": "end"})
    while (await asyncio.wait_for(marker.get(), TIMEOUT))["n"] != "end":
        pass
    got = [(await asyncio.wait_for(sub.get(), TIMEOUT))["n"] for _ in range(3)]
    assert got == [0, 1, 2]
    assert sub.lost == 8


def test_the_url_chooses_the_broker() -> None:
    assert isinstance(make_broker(""), MemoryBroker)
    assert isinstance(make_broker("memory://"), MemoryBroker)
    assert isinstance(make_broker("redis://127.0.0.1:6379/0"), RedisBroker)
    with pytest.raises(ValueError, match="no broker"):
        make_broker("kafka://somewhere")
