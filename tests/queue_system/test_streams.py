"""Following streams from resume tokens: in order, none twice, none missed, and a gap is never silent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

import pytest
import redis.asyncio as aioredis

from queue_system import streams
from queue_system.errors import FailedPreconditionError, InvalidArgumentError
from queue_system.streams import Follow


def _follow(prefix: str, only_even: bool = False) -> Follow[str]:
    def parse(name: str, entry_id: bytes, fields: Mapping[bytes, bytes]) -> str | None:
        n = int(fields[b"n"])
        return None if only_even and n % 2 else f"{name}:{n}"

    return Follow({"a": f"{prefix}:a", "b": f"{prefix}:b"}, parse)


async def _take(it: AsyncIterator[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    out = []
    async with asyncio.timeout(10):
        while len(out) < n:
            out.append(await anext(it))
    return out


async def test_every_entry_after_a_token_comes_once_in_order(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    follow = _follow(queue_prefix)
    positions = await streams.start(redis_client, follow, "")
    for i in range(6):
        await redis_client.xadd(f"{queue_prefix}:a", {"n": i})
    first = await _take(streams.entries(redis_client, follow, positions), 6)
    assert [item for _, item in first] == [f"a:{i}" for i in range(6)]
    # from each token on, exactly the entries after it
    for k, (token, _) in enumerate(first):
        for i in range(6, 8) if k == 0 else ():
            await redis_client.xadd(f"{queue_prefix}:b", {"n": i})
        resumed = await streams.start(redis_client, follow, token)
        want = [f"a:{i}" for i in range(k + 1, 6)] + ["b:6", "b:7"]
        got = await _take(streams.entries(redis_client, follow, resumed), len(want))
        assert sorted(item for _, item in got) == sorted(want)
        assert [i for _, i in got if i.startswith("a")] == [w for w in want if w.startswith("a")]


async def test_entries_a_filter_passes_over_still_move_the_token(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    follow = _follow(queue_prefix, only_even=True)
    positions = await streams.start(redis_client, follow, "")
    for i in range(5):
        await redis_client.xadd(f"{queue_prefix}:a", {"n": i})
    got = await _take(streams.entries(redis_client, follow, positions), 3)
    assert [item for _, item in got] == ["a:0", "a:2", "a:4"]
    await redis_client.xadd(f"{queue_prefix}:a", {"n": 6})
    [(_, item)] = await _take(
        streams.entries(redis_client, follow, await streams.start(redis_client, follow, got[-1][0])), 1
    )
    assert item == "a:6"


async def test_a_reader_whose_unread_entries_were_trimmed_is_told_so(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    follow = _follow(queue_prefix)
    key = f"{queue_prefix}:a"
    positions = await streams.start(redis_client, follow, "")
    await redis_client.xadd(key, {"n": 0})
    [(token, _)] = await _take(streams.entries(redis_client, follow, positions), 1)
    for i in range(1, 20):  # exact trimming: entries 1..14 go unread
        await redis_client.xadd(key, {"n": i}, maxlen=5, approximate=False)
    with pytest.raises(FailedPreconditionError) as expired:
        await streams.start(redis_client, follow, token)
    assert expired.value.violation_type == "RESUME_TOKEN_EXPIRED"
    behind = streams.entries(redis_client, follow, streams.resume_positions(token, ["a", "b"]) | {"b": "0-0"})
    with pytest.raises(FailedPreconditionError) as fell:
        await anext(behind)
    assert fell.value.violation_type == "WATCH_FELL_BEHIND"


@pytest.mark.parametrize("token", ["not-base64!", "eyJhIjogMX0=", "eyJhIjogIngifQ=="])
async def test_a_token_this_service_did_not_issue_is_a_bad_argument(
    redis_client: aioredis.Redis, queue_prefix: str, token: str
) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        await streams.start(redis_client, _follow(queue_prefix), token)
    assert caught.value.violations[0].field == "resume_token"


async def test_a_reader_cancelled_stops_every_time(redis_client: aioredis.Redis, queue_prefix: str) -> None:
    """A watcher that goes away cancels its reader mid-XREAD. redis-py sometimes loses such a
    cancellation (about once in a hundred); the reader must stop anyway, every time."""
    follow = _follow(queue_prefix)
    positions = await streams.start(redis_client, follow, "")

    async def read_forever() -> None:
        async for _ in streams.entries(redis_client, follow, positions):
            pass

    for i in range(400):
        reader = asyncio.create_task(read_forever())
        await asyncio.sleep((i % 20) / 1000)
        reader.cancel()
        done, _ = await asyncio.wait({reader}, timeout=10)
        assert done, f"cancel {i} did not stop the reader"
        assert reader.cancelled()
