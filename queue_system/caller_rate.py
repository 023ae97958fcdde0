"""The per-caller limit on state-changing RPCs, counted in Redis so every process counts together.

A caller may make `count` state-changing calls at once, refilled at `count` per
`period_ms` (JOBMESH_AUTH_RATE_LIMIT), across the whole mesh: counted per
process, N service processes would let a caller through at N times the rate.
One script (lua/caller_rate.lua, GCRA: a token bucket kept as one number per
caller, on Redis's clock) counts and answers in one round trip, and its key
(`keys.caller_rate`) expires once the caller's bucket is full again.

This module only counts; what a service does when Redis does not answer (fall
back to its own per-process count) is the service kit's choice
(service_kit.auth.SharedCallerLimits). No grpc here: queue_system imports none.
"""

from __future__ import annotations

from importlib.resources import files

import redis.asyncio as aioredis

from queue_system.keys import caller_rate


class CallerRate:
    """Counts callers' calls against `count` per `period_ms`, in Redis under QUEUE_PREFIX `prefix`."""

    def __init__(self, client: aioredis.Redis, prefix: str, count: int, period_ms: int) -> None:
        self.client = client
        self.prefix = prefix
        self.count = count
        self.period_ms = period_ms
        self._take = client.register_script((files("queue_system") / "lua" / "caller_rate.lua").read_text())

    async def take(self, caller: str) -> float:
        """0.0 when `caller` may call now (and counts the call), else seconds until it may.
        Raises what redis-py raises when Redis does not answer."""
        wait_us = await self._take(keys=[caller_rate(self.prefix, caller)], args=[self.period_ms, self.count])
        return int(wait_us) / 1_000_000
