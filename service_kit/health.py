"""`grpc.health.v1` that tells the truth: SERVING only while Redis answers PING.

Every jobmesh service is useless without Redis, so its health is Redis's:
a watcher pings once a second with a short timeout and flips the overall
status ("") and every served service's status together. It starts
NOT_SERVING (a service may boot before Redis), recovers by itself when Redis
returns, and goes NOT_SERVING for good once shutdown begins.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Final

import redis.asyncio as aioredis
import redis.exceptions
from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer
from redis.backoff import NoBackoff
from redis.retry import Retry

from queue_system.outages import stop_if_cancelled

log = logging.getLogger(__name__)

SERVING: Final = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING: Final = health_pb2.HealthCheckResponse.NOT_SERVING

# One ping a second, each given at most this long: a dead Redis shows within ~2 s.
PING_INTERVAL_S: Final = 1.0
PING_TIMEOUT_S: Final = 0.8


class RedisHealth:
    """A HealthServicer whose statuses follow whether Redis answers."""

    def __init__(
        self,
        redis_url: str,
        redis_url_redacted: str,
        services: Sequence[str],
        interval_s: float = PING_INTERVAL_S,
        timeout_s: float = PING_TIMEOUT_S,
    ) -> None:
        self.servicer = HealthServicer()
        self.services = ("", *services)
        self._where = redis_url_redacted
        self._interval_s = interval_s
        self._timeout_s = timeout_s
        # Fail fast, never retry: the watcher itself is the retry loop.
        self._client = aioredis.Redis.from_url(
            redis_url,
            socket_connect_timeout=timeout_s,
            socket_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            single_connection_client=True,
        )
        self._serving: bool | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Report NOT_SERVING until the first PING answers, then keep watching."""
        await self._set_all(False)
        self._serving = None  # so the first PING's outcome is logged either way
        self._task = asyncio.create_task(self._watch(), name="redis-health")

    async def shutdown(self) -> None:
        """NOT_SERVING for every service from now on (the server is going away)."""
        await self.servicer.enter_graceful_shutdown()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()

    async def _ping(self) -> str | None:
        """None when Redis answers, else why not."""
        try:
            await asyncio.wait_for(self._client.ping(), self._timeout_s)
        except (TimeoutError, redis.exceptions.RedisError, OSError) as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return None

    async def _watch(self) -> None:
        while True:
            problem = await self._ping()
            stop_if_cancelled()
            ok = problem is None
            if ok != self._serving:
                if ok:
                    log.info("Redis at %s answers: SERVING", self._where)
                else:
                    log.warning("Redis at %s does not answer (%s): NOT_SERVING", self._where, problem)
                await self._set_all(ok)
            await asyncio.sleep(self._interval_s)

    async def _set_all(self, ok: bool) -> None:
        self._serving = ok
        for service in self.services:
            await self.servicer.set(service, SERVING if ok else NOT_SERVING)
