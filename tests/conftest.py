"""Shared fixtures: a Redis for every test, and a private one to break.

`redis_url` is the machine's Redis (REDIS_URL, else 127.0.0.1:6379; when
none answers, a private redis-server for the session) and `queue_prefix`
isolates each test's keys with a fresh QUEUE_PREFIX. Tests that kill or
restart Redis use `private_redis`, a redis-server of their own on a free
port. No Redis is mocked and no test is skipped for want of one.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import redis as sync_redis
import redis.asyncio as aioredis

from mesh.redis_server import RedisProcess  # (importing mesh first turns gRPC's fork handlers off)
from queue_system.settings import Settings, load


def _shared_redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def _answers(url: str) -> bool:
    try:
        return bool(sync_redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a Redis that answers: REDIS_URL, else the machine's on 127.0.0.1:6379, else a
    private redis-server this test session starts (and stops) itself, so every test runs."""
    url = _shared_redis_url()
    if _answers(url):
        yield url
        return
    if os.environ.get("REDIS_URL"):
        pytest.fail(f"REDIS_URL={url} does not answer")
    server = RedisProcess()
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        pytest.fail(f"no Redis at {url}, and no private redis-server could start: {exc}")
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def queue_prefix() -> str:
    """A QUEUE_PREFIX no other test uses, so tests never see each other's keys."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def redis_client(redis_url: str, queue_prefix: str) -> AsyncIterator[aioredis.Redis]:
    """A client on the shared Redis; deletes the test's keys afterwards."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    async with asyncio.timeout(30):
        async for key in client.scan_iter(match=f"{queue_prefix}:*", count=1000):
            await client.delete(key)
        await client.aclose()


@pytest.fixture
def private_redis() -> Iterator[RedisProcess]:
    """A redis-server of this test's own (AOF on), free to kill and restart."""
    server = RedisProcess(appendonly=True)
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def make_settings(redis_url: str, queue_prefix: str) -> Callable[..., Settings]:
    """Settings on the test's prefix; fast timers unless a test overrides them."""

    def make(**env: str) -> Settings:
        base = {
            "REDIS_URL": redis_url,
            "QUEUE_PREFIX": queue_prefix,
            "JOBMESH_RECLAIM_MS": "1000",
            "JOBMESH_QUEUE_CATEGORIZATION_RATE_LIMIT": "none",
            "QUEUE_DEFAULT_REMOVE_ON_COMPLETE": "false",
        }
        return load({**base, **env})

    return make
