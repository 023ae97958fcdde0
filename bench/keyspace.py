"""The bench's own keys: every one lives under `<prefix>:`, and all are deleted afterwards."""

from __future__ import annotations

import redis.asyncio as aioredis


def pattern(prefix: str) -> str:
    """SCAN pattern of every key under `prefix` (QUEUE_PREFIX holds no glob characters)."""
    return f"{prefix}:*"


async def count_keys(client: aioredis.Redis, prefix: str) -> int:
    return sum([1 async for _ in client.scan_iter(match=pattern(prefix), count=1000)])


async def refuse_used_prefix(client: aioredis.Redis, prefix: str) -> None:
    """Stop before touching anything when the prefix already holds keys (someone else's queues)."""
    found = await count_keys(client, prefix)
    if found:
        raise SystemExit(
            f"bench: prefix {prefix!r} already holds {found} key(s) on this Redis; "
            "the bench deletes every key under its prefix afterwards, so it runs only on an unused one"
        )


async def delete_keys(client: aioredis.Redis, prefix: str) -> int:
    """Delete every key under `prefix`; how many there were."""
    deleted = 0
    batch: list[bytes] = []
    async for key in client.scan_iter(match=pattern(prefix), count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += int(await client.unlink(*batch))
            batch.clear()
    if batch:
        deleted += int(await client.unlink(*batch))
    return deleted
