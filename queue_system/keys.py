"""Every Redis key, stream, channel and TTL jobmesh uses, named in one place.

All keys of one queue share the hash tag `{<queue>}`, so each queue lives in
one Redis Cluster slot and every Lua script of the queue touches one slot.
`prefix` is QUEUE_PREFIX (default "jobmesh").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from queue_system.catalog import (
    FINANCIAL_EVENTS_CHANNEL,
    SYSTEM_EVENTS_CHANNEL,
    TRADING_EVENTS_CHANNEL,
    WORKER_COORDINATION_CHANNEL,
)

# Consumer group every worker of a queue joins (one group per lane stream).
CONSUMER_GROUP: Final = "workers"

# Lanes of a queue, highest priority first; each is one Redis Stream.
LANES: Final = ("critical", "high", "normal", "low")

# Entries kept in a queue's capped event stream (XADD MAXLEN ~): what a
# WatchQueueEvents reconnect can still resume from.
EVENTS_MAXLEN: Final = 10_000

# How long a mutating RPC's first answer is kept for retries with the same request_id.
IDEMPOTENCY_TTL_S: Final = 24 * 3600

# The seed's pub/sub channels (exact names, not prefixed).
CHANNELS: Final = (
    TRADING_EVENTS_CHANNEL,
    FINANCIAL_EVENTS_CHANNEL,
    SYSTEM_EVENTS_CHANNEL,
    WORKER_COORDINATION_CHANNEL,
)


@dataclass(frozen=True, slots=True)
class QueueKeys:
    """The keys of one queue."""

    prefix: str
    queue: str

    @property
    def base(self) -> str:
        """`<prefix>:{<queue>}`: the hash-tagged root of every key below."""
        return f"{self.prefix}:{{{self.queue}}}"

    def lane(self, lane: str) -> str:
        """Stream of ready jobs of one priority lane; entries hold only the job id."""
        return f"{self.base}:lane:{lane}"

    def lane_key_of(self, index: int) -> str:
        """Stream of lane `index` (1 = critical ... 4 = low), as the scripts number them."""
        return self.lane(LANES[index - 1])

    @property
    def lanes(self) -> tuple[str, ...]:
        """Every lane stream, highest priority first."""
        return tuple(self.lane(lane) for lane in LANES)

    @property
    def job_prefix(self) -> str:
        """Prefix of job hashes (`<job_prefix><id>`): envelope, attempts, errors, timestamps."""
        return f"{self.base}:job:"

    def job(self, job_id: str) -> str:
        return f"{self.job_prefix}{job_id}"

    @property
    def delayed(self) -> str:
        """ZSET job id -> due time (ms): delayed jobs and retries waiting out their backoff."""
        return f"{self.base}:delayed"

    @property
    def completed(self) -> str:
        """ZSET job id -> finish time (ms) of completed jobs kept by retention."""
        return f"{self.base}:completed"

    @property
    def failed(self) -> str:
        """ZSET job id -> finish time (ms) of failed jobs kept by retention."""
        return f"{self.base}:failed"

    @property
    def paused(self) -> str:
        """String; present while the queue is paused for every worker."""
        return f"{self.base}:paused"

    @property
    def limiter(self) -> str:
        """ZSET of recent job starts (sliding-window rate limit shared by all workers)."""
        return f"{self.base}:limiter"

    @property
    def events(self) -> str:
        """Capped stream of this queue's lifecycle events (resume source for watchers)."""
        return f"{self.base}:events"

    @property
    def dead_letters(self) -> str:
        """Durable stream of FailedJob records for dlq_svc; never trimmed by the queue."""
        return f"{self.base}:dead"

    @property
    def ready(self) -> str:
        """Hash lane number -> jobs waiting in that lane (acknowledged entries are trimmed
        in bulk, so XLEN does not count waiting jobs)."""
        return f"{self.base}:ready"

    @property
    def workers(self) -> str:
        """ZSET consumer name -> last heartbeat (ms): live workers of the queue."""
        return f"{self.base}:workers"

    @property
    def stats(self) -> str:
        """Hash of all-time counters (dead_lettered, ...)."""
        return f"{self.base}:stats"

    @property
    def config(self) -> str:
        """Hash of the queue's shared settings (concurrency, rate limit) for inspection."""
        return f"{self.base}:config"


def idempotency_key(prefix: str, scope: str, request_id: str) -> str:
    """First answer of a mutating RPC, kept IDEMPOTENCY_TTL_S for retries."""
    return f"{prefix}:idem:{scope}:{request_id}"


def dead_letter_group() -> str:
    """Consumer group dlq_svc reads each queue's dead-letter stream with."""
    return "dlq-svc"
