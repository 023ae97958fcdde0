"""What a bench run left in Redis: every bench deletes its keys afterwards, and its tests check."""

from __future__ import annotations

import redis

from bench.keyspace import pattern


def keys_left(redis_url: str, prefix: str, match: str | None = None) -> list[bytes]:
    """Keys under `prefix` (bench.keyspace's pattern), or matching the SCAN glob `match` when given."""
    client = redis.Redis.from_url(redis_url)
    try:
        return list(client.scan_iter(match=match or pattern(prefix), count=1000))
    finally:
        client.close()
