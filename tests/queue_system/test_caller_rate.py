"""The per-caller limit counted in Redis (queue_system.caller_rate), on the shared Redis.

Two counters on two clients stand for two service processes: together they admit
`count` calls at once, then tell how long until the next, per caller; the
bucket refills at its rate, and its key is gone once it is full again.
"""

from __future__ import annotations

import asyncio
import time
from typing import Final

import redis.asyncio as aioredis

from queue_system.caller_rate import CallerRate
from queue_system.keys import caller_rate

# Redis counts on its clock, the test on time.monotonic(): room for the two to differ a little.
SLACK: Final = 0.05


async def test_two_processes_together_admit_the_count_then_say_when_to_call_again(
    redis_url: str, redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    other = aioredis.Redis.from_url(redis_url)
    try:
        one = CallerRate(redis_client, queue_prefix, 4, 60_000)
        two = CallerRate(other, queue_prefix, 4, 60_000)
        # Bounds against the time the calls took, so a slow machine only widens them: the first
        # call is counted after `start`, hence no later than `elapsed` before any call that follows.
        start = time.monotonic()
        waits = [await (one if i % 2 == 0 else two).take("alice") for i in range(6)]
        elapsed = time.monotonic() - start
        assert waits[:4] == [0.0] * 4  # a full bucket holds 4, however long the calls take
        # refill is 4 per 60 s: the next call one 15 s interval after the first, and no later, as
        # the refused calls are not counted (counted, the second refused would wait 30 s)
        assert all(15.0 - elapsed - SLACK < w <= 15.0 for w in waits[4:]), (waits, elapsed)
        assert await two.take("bob") == 0.0  # per caller
        ttl = await redis_client.pttl(caller_rate(queue_prefix, "alice"))
        elapsed_ms = (time.monotonic() - start) * 1000
        # the key lives until the bucket is full again: 60 s after the first call
        assert 60_000 - elapsed_ms - SLACK * 1000 < ttl <= 60_000, (ttl, elapsed_ms)
    finally:
        await other.aclose()


async def test_the_bucket_refills_at_its_rate_and_leaves_no_key_once_full(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    """2 per second: a call every 0.5 s. Each bound is against the time measured since the first
    call, so a slow call or an oversleep only widens it (to 0 once that time passes the refill)."""
    interval = 0.5
    rate = CallerRate(redis_client, queue_prefix, 2, 1_000)
    start = time.monotonic()
    assert [await rate.take("carol") for _ in range(2)] == [0.0, 0.0]
    wait = await rate.take("carol")
    elapsed = time.monotonic() - start
    # empty after 2: the next token one interval after the first call
    assert interval - elapsed - SLACK < wait <= interval, (wait, elapsed)
    assert wait > 0, f"three calls took {elapsed:.3f} s, past the {interval} s interval"
    await asyncio.sleep(wait + 0.01)
    assert await rate.take("carol") == 0.0  # refilled by then
    wait = await rate.take("carol")
    elapsed = time.monotonic() - start
    # that token spent, the next is one more interval on: two after the first call (at least
    # wait + 0.01 s has passed since it, so less than one interval from now)
    assert 2 * interval - elapsed - SLACK < wait <= interval - 0.01, (wait, elapsed)
    await asyncio.sleep(1.0 + SLACK)  # a whole period: full again, however the calls went
    assert await redis_client.exists(caller_rate(queue_prefix, "carol")) == 0


async def test_an_absurd_rate_still_counts(redis_client: aioredis.Redis, queue_prefix: str) -> None:
    """At a billion a second the interval is below a double's precision at µs epochs: the key
    still gets an expiry of at least 1 ms (SET PX 0 is an error)."""
    rate = CallerRate(redis_client, queue_prefix, 10**9, 1000)
    assert [await rate.take("dave") for _ in range(3)] == [0.0, 0.0, 0.0]
