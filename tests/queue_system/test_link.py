"""The producer's pipelined connection: replies in order to many callers at once, redis-py's
errors, a caller that gives up, and a Redis that goes away and comes back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

from mesh.redis_server import RedisProcess
from queue_system.connection import connect
from queue_system.link import RedisLink


@pytest.fixture
async def link(redis_url: str) -> AsyncIterator[RedisLink]:
    client = connect(redis_url)
    link = RedisLink(client)
    yield link
    await link.aclose()
    await client.aclose()


async def test_many_callers_at_once_each_get_their_own_reply(
    link: RedisLink, redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    key = f"{queue_prefix}:n"
    replies = await asyncio.gather(*(link.call("INCR", key) for _ in range(500)))
    # pipelined on one connection in the order the calls were made: 1, 2, ... 500
    assert replies == list(range(1, 501))
    assert await redis_client.get(key) == b"500"
    assert await link.call("SET", key, "h\u00e9llo") == b"OK"
    assert await link.call("GET", key) == "h\u00e9llo".encode()


async def test_error_replies_are_redis_pys_and_the_link_goes_on(link: RedisLink, queue_prefix: str) -> None:
    with pytest.raises(NoScriptError):
        await link.call("EVALSHA", "0" * 40, 0)
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await link.call("SET", f"{queue_prefix}:s", "x")
        await link.call("LPUSH", f"{queue_prefix}:s", "y")
    assert await link.call("PING") == b"PONG"


async def test_a_caller_that_gives_up_takes_no_one_elses_reply(link: RedisLink, queue_prefix: str) -> None:
    waiting = asyncio.create_task(link.call("BLPOP", f"{queue_prefix}:never", 1))
    await asyncio.sleep(0.1)
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    # BLPOP's (nil) reply comes first and belongs to nobody now; PING gets PONG, not it
    assert await link.call("PING") == b"PONG"
    assert await link.call("ECHO", "after") == b"after"


async def test_a_redis_that_goes_away_fails_what_is_in_flight_and_the_next_call_connects_again(
    private_redis: RedisProcess,
) -> None:
    client = connect(private_redis.url)
    link = RedisLink(client)
    try:
        assert await link.call("SET", "k", "before") == b"OK"
        stuck = asyncio.create_task(link.call("BLPOP", "nothing", 0))  # in flight when Redis dies
        await asyncio.sleep(0.1)
        private_redis.kill()
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(stuck, 30)
        with pytest.raises(RedisConnectionError):
            await link.call("PING")  # nothing to connect to
        private_redis.start()
        assert await link.call("GET", "k") == b"before"  # AOF on: the restarted Redis kept it
    finally:
        await link.aclose()
        await client.aclose()


async def test_it_dials_as_the_client_does_password_and_database(private_redis: RedisProcess) -> None:
    admin = aioredis.Redis.from_url(private_redis.url)
    try:
        await admin.config_set("requirepass", "s3cret-link")
        url = private_redis.url.replace("redis://", "redis://:s3cret-link@").rsplit("/", 1)[0] + "/3"
        client = connect(url)
        link = RedisLink(client)
        try:
            assert await link.call("SET", "where", "db3") == b"OK"
            assert await client.get("where") == b"db3"  # the same database as the client's
            probe = aioredis.Redis.from_url(private_redis.url, password="s3cret-link")
            assert await probe.get("where") is None  # not database 0
            await probe.aclose()
        finally:
            await link.aclose()
            await client.aclose()
    finally:
        await admin.aclose()


async def test_closing_fails_what_is_in_flight_and_a_later_call_opens_it_again(
    link: RedisLink, queue_prefix: str
) -> None:
    stuck = asyncio.create_task(link.call("BLPOP", f"{queue_prefix}:never", 0))
    await asyncio.sleep(0.1)
    await link.aclose()
    with pytest.raises(RedisConnectionError):
        await asyncio.wait_for(stuck, 30)
    assert await link.call("PING") == b"PONG"
