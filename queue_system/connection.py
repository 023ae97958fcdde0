"""Redis clients that ride out a Redis restart by themselves.

Every command is retried with capped exponential backoff on connection and
timeout errors, so a producer or worker keeps going when Redis comes back.
Retrying is safe for every jobmesh script: adds are de-duplicated by job id and
every finish checks that the caller still holds the job.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Retries per command before the error reaches the caller (about 5 s of backoff).
COMMAND_RETRIES = 12


def connect(
    url: str, *, retries: int = COMMAND_RETRIES, max_connections: int | None = None
) -> aioredis.Redis:
    """An asyncio client for `url` with reconnecting retries and keep-alive checks."""
    return aioredis.Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.02), retries),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=2.0,
        socket_keepalive=True,
        health_check_interval=15,
        max_connections=max_connections,
    )
