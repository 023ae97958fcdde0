"""The per-caller limit counted in Redis (queue_system.caller_rate), on the shared Redis.

Two counters on two clients stand for two service processes: together they admit
`count` calls at once, then tell how long until the next, per caller; the
bucket refills at its rate, and its key is gone once it is full again.
"""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from queue_system.caller_rate import CallerRate
from queue_system.keys import caller_rate


async def test_two_processes_together_admit_the_count_then_say_when_to_call_again(
    redis_url: str, redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    other = aioredis.Redis.from_url(redis_url)
    try:
        one = CallerRate(redis_client, queue_prefix, 4, 60_000)
        two = CallerRate(other, queue_prefix, 4, 60_000)
        waits = [await (one if i % 2 == 0 else two).take("alice") for i in range(6)]
        assert waits[:4] == [0.0] * 4
        # refill is 4 per 60 s: one call every 15 s; the refused calls are not counted
        assert all(14.9 < w <= 15.0 for w in waits[4:]), waits
        assert await two.take("bob") == 0.0  # per caller
        ttl = await redis_client.pttl(caller_rate(queue_prefix, "alice"))
        assert 59_000 < ttl <= 60_000
    finally:
        await other.aclose()


async def test_the_bucket_refills_at_its_rate_and_leaves_no_key_once_full(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    rate = CallerRate(redis_client, queue_prefix, 2, 200)
    assert [await rate.take("carol") for _ in range(2)] == [0.0, 0.0]
    wait = await rate.take("carol")
    assert 0 < wait <= 0.1
    await asyncio.sleep(wait + 0.01)
    assert await rate.take("carol") == 0.0
    assert await rate.take("carol") > 0
    await asyncio.sleep(0.25)
    assert await redis_client.exists(caller_rate(queue_prefix, "carol")) == 0


async def test_an_absurd_rate_still_counts(redis_client: aioredis.Redis, queue_prefix: str) -> None:
    """At a billion a second the interval is below a double's precision at µs epochs: the key
    still gets an expiry of at least 1 ms (SET PX 0 is an error)."""
    rate = CallerRate(redis_client, queue_prefix, 10**9, 1000)
    assert [await rate.take("dave") for _ in range(3)] == [0.0, 0.0, 0.0]
