"""The stream hub: one reader for many followers, each seeing every entry once, in order, never a gap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping

import pytest
import redis.asyncio as aioredis

from mesh.redis_server import RedisProcess
from queue_system import streams
from queue_system.connection import connect
from queue_system.errors import FailedPreconditionError, UnavailableError
from queue_system.stream_hub import StreamHub
from queue_system.streams import Follow
from tests.queue_system.conftest import wait_until

WITHIN_S = 30.0  # generous: CI has two busy cores


def _follow(prefix: str, *names: str) -> Follow[str]:
    def parse(name: str, entry_id: bytes, fields: Mapping[bytes, bytes]) -> str:
        return f"{name}:{int(fields[b'n'])}"

    return Follow({n: f"{prefix}:{n}" for n in names or ("a",)}, parse)


async def _take(it: AsyncIterator[tuple[str, str]], n: int) -> list[str]:
    out = []
    async with asyncio.timeout(WITHIN_S):
        while len(out) < n:
            out.append((await anext(it))[1])
    return out


async def _add(client: aioredis.Redis, key: str, numbers: range, maxlen: int | None = None) -> list[str]:
    return [(await client.xadd(key, {"n": i}, maxlen=maxlen, approximate=False)).decode() for i in numbers]


@pytest.fixture
async def hub(redis_client: aioredis.Redis) -> AsyncIterator[StreamHub]:
    h = StreamHub(redis_client)
    yield h
    await h.close()


async def _until(check: Callable[[], bool]) -> None:
    async def holds() -> bool:
        return check()

    await wait_until(holds, within=WITHIN_S, every=0.01)


async def test_many_followers_each_see_every_entry_once_in_order(
    redis_client: aioredis.Redis, queue_prefix: str, hub: StreamHub
) -> None:
    follow = _follow(queue_prefix, "a", "b")
    readers = []
    for _ in range(50):
        it = hub.entries(follow, await streams.start(redis_client, follow, ""))
        readers.append(asyncio.create_task(_take(it, 60)))
    await _until(lambda: hub.subscribers == 50)
    assert sorted(hub.streams) == [f"{queue_prefix}:a", f"{queue_prefix}:b"]  # one read for all
    for i in range(30):
        await redis_client.xadd(f"{queue_prefix}:a", {"n": i})
        await redis_client.xadd(f"{queue_prefix}:b", {"n": i})
    for got in await asyncio.gather(*readers):
        assert [x for x in got if x.startswith("a")] == [f"a:{i}" for i in range(30)]
        assert [x for x in got if x.startswith("b")] == [f"b:{i}" for i in range(30)]


async def test_a_slow_follower_stalls_nobody_and_still_sees_everything(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    hub = StreamHub(redis_client, queue_bound=10, read_count=3)
    follow = _follow(queue_prefix)
    try:
        slow = hub.entries(follow, await streams.start(redis_client, follow, ""))
        fast = hub.entries(follow, await streams.start(redis_client, follow, ""))
        # the slow follower takes one entry, then none until the fast one has all 100
        slow_first = asyncio.create_task(_take(slow, 1))
        reading = asyncio.create_task(_take(fast, 100))
        await _until(lambda: hub.subscribers == 2)
        await _add(redis_client, f"{queue_prefix}:a", range(100))
        assert await reading == [f"a:{i}" for i in range(100)]
        assert await slow_first == ["a:0"]
        # far behind its bound by now: it reads Redis itself, then the hub's queue again
        assert await _take(slow, 99) == [f"a:{i}" for i in range(1, 100)]
        await redis_client.xadd(f"{queue_prefix}:a", {"n": 100})
        assert await _take(slow, 1) == ["a:100"]
        assert await _take(fast, 1) == ["a:100"]
    finally:
        await hub.close()


async def test_a_follower_from_an_old_position_catches_up_without_gap_or_twice(
    redis_client: aioredis.Redis, queue_prefix: str, hub: StreamHub
) -> None:
    follow = _follow(queue_prefix)
    key = f"{queue_prefix}:a"
    ahead = hub.entries(follow, await streams.start(redis_client, follow, ""))
    ids = await _add(redis_client, key, range(40))
    assert await _take(ahead, 40) == [f"a:{i}" for i in range(40)]
    # joins from entry 5 while entries keep coming: 6.. exactly, in order
    late = hub.entries(follow, {"a": ids[5]})
    adding = asyncio.create_task(_add(redis_client, key, range(40, 80)))
    got = await _take(late, 74)
    await adding
    assert got == [f"a:{i}" for i in range(6, 80)]
    assert await _take(ahead, 40) == [f"a:{i}" for i in range(40, 80)]


async def test_a_stream_followed_while_the_reader_blocks_is_read_at_once(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    """The reader blocks for a minute here, longer than the deadline: only unblocking it delivers."""
    hub = StreamHub(redis_client, block_ms=60_000)
    a, b = _follow(queue_prefix, "a"), _follow(queue_prefix, "b")
    try:
        on_a = hub.entries(a, await streams.start(redis_client, a, ""))
        await redis_client.xadd(f"{queue_prefix}:a", {"n": 1})
        assert await _take(on_a, 1) == ["a:1"]  # the reader now blocks on a alone
        on_b = hub.entries(b, await streams.start(redis_client, b, ""))
        taking = asyncio.create_task(_take(on_b, 1))
        await _until(lambda: len(hub.streams) == 2)
        await redis_client.xadd(f"{queue_prefix}:b", {"n": 2})
        async with asyncio.timeout(20):  # well under the reader's block
            assert await taking == ["b:2"]
    finally:
        await hub.close()


async def test_entries_trimmed_away_unread_are_watch_fell_behind(
    redis_client: aioredis.Redis, queue_prefix: str, hub: StreamHub
) -> None:
    follow = _follow(queue_prefix)
    key = f"{queue_prefix}:a"
    [first] = await _add(redis_client, key, range(1))
    await _add(redis_client, key, range(1, 20), maxlen=5)  # 1..14 go unread
    # the hub reads the stream from a trimmed position
    with pytest.raises(FailedPreconditionError) as hub_read:
        await _take(hub.entries(follow, {"a": first}), 1)
    assert hub_read.value.violation_type == "WATCH_FELL_BEHIND"
    # a follower behind a hub that already reads the stream catches up itself, and learns it too
    ahead = hub.entries(follow, await streams.start(redis_client, follow, ""))
    await redis_client.xadd(key, {"n": 20})
    assert await _take(ahead, 1) == ["a:20"]
    with pytest.raises(FailedPreconditionError) as caught_up:
        await _take(hub.entries(follow, {"a": first}), 1)
    assert caught_up.value.violation_type == "WATCH_FELL_BEHIND"


async def test_a_follower_cancelled_mid_read_leaves_the_hub_every_time(
    redis_client: aioredis.Redis, queue_prefix: str, hub: StreamHub
) -> None:
    follow = _follow(queue_prefix)
    staying = hub.entries(follow, await streams.start(redis_client, follow, ""))
    staying_first = asyncio.create_task(_take(staying, 1))
    await _until(lambda: hub.subscribers == 1)
    for i in range(200):
        it = hub.entries(follow, await streams.start(redis_client, follow, ""))
        reader = asyncio.create_task(_take(it, 1))
        await asyncio.sleep((i % 20) / 1000)
        reader.cancel()
        done, _ = await asyncio.wait({reader}, timeout=WITHIN_S)
        assert done, f"cancel {i} did not stop the follower"
        assert reader.cancelled()
        assert hub.subscribers == 1, f"cancel {i} left a follower behind"
    await redis_client.xadd(f"{queue_prefix}:a", {"n": 7})
    assert await staying_first == ["a:7"]


async def test_closing_the_hub_ends_its_followers_and_its_tasks(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    hub = StreamHub(redis_client)
    follow = _follow(queue_prefix)
    followers = [
        asyncio.create_task(_take(hub.entries(follow, await streams.start(redis_client, follow, "")), 5))
        for _ in range(10)
    ]
    await _until(lambda: hub.subscribers == 10)
    await hub.close()
    for ended in await asyncio.gather(*followers, return_exceptions=True):
        assert isinstance(ended, UnavailableError)
    assert hub.subscribers == 0
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("stream-hub")]
    with pytest.raises(UnavailableError):
        await anext(hub.entries(follow, {"a": "0-0"}))


async def test_a_redis_restart_mid_stream_is_a_pause_not_a_gap(
    private_redis: RedisProcess, queue_prefix: str
) -> None:
    client = connect(private_redis.url)
    hub = StreamHub(client)
    follow = _follow(queue_prefix)
    key = f"{queue_prefix}:a"
    try:
        it = hub.entries(follow, await streams.start(client, follow, ""))
        await _add(client, key, range(10))
        assert await _take(it, 5) == [f"a:{i}" for i in range(5)]
        await asyncio.to_thread(private_redis.kill)
        reading = asyncio.create_task(_take(it, 25))
        await asyncio.sleep(0.3)  # the reader meets the outage
        await asyncio.to_thread(private_redis.start)
        await _add(client, key, range(10, 30))
        assert await reading == [f"a:{i}" for i in range(5, 30)]
    finally:
        await hub.close()
        await client.aclose()


def _message(token: str, item: str) -> tuple[str, str]:
    return token, item


async def test_followers_of_one_stream_share_each_message_made_once(
    redis_client: aioredis.Redis, queue_prefix: str, hub: StreamHub
) -> None:
    one, two = _follow(queue_prefix), _follow(queue_prefix, "a", "b")
    readers = [
        hub.messages(follow, await streams.start(redis_client, follow, ""), _message)
        for follow in (one, one, two)
    ]
    taking = [asyncio.create_task(anext(r)) for r in readers]
    await _until(lambda: hub.subscribers == 3)
    await redis_client.xadd(f"{queue_prefix}:a", {"n": 1})
    first, second, both = await asyncio.gather(*taking)
    assert first is second  # made once for the two followers of `a` alone
    assert first[1] == both[1] == "a:1"
    assert streams.resume_positions(both[0], ["a", "b"]).keys() == {"a", "b"}  # its own token
