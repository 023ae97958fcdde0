"""How much harm a dead letter signals: points from tables (data), summed, then a level.

A failed strategy-execution may leave an order half placed; a failed
categorization leaves a transaction uncategorized until the next run. The
queue says most, then the kind of failure (a revoked credential stops every
job after it; a rate limit passes), then how hard the job tried, then how
fresh it was (a job that died within a minute of being sent failed on
something live; one that waited hours was stale anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.jobs.v1 import failure_pb2
from queue_system import catalog

C = cpb
# Points by source queue: what a failed job of that queue puts at stake.
QUEUE_POINTS: Final[Mapping[str, int]] = {
    catalog.STRATEGY_EXECUTION: 3,  # orders: money moves, or should have
    catalog.POSITION_MONITORING: 3,  # an open position nobody watches
    catalog.ARBITRAGE_DETECTION: 1,
    catalog.RISK_ANALYSIS: 2,
    catalog.ACCOUNT_RECONCILIATION: 2,  # books that may not balance
    catalog.TRANSACTION_SYNC: 1,
    catalog.REPORT_GENERATION: 0,
    catalog.CATEGORIZATION: 0,
}
# Points by ErrorCategory: whether the cause outlives this job.
CATEGORY_POINTS: Final[Mapping[int, int]] = {
    C.ERROR_CATEGORY_AUTHORIZATION: 2,  # every job after it will fail the same way
    C.ERROR_CATEGORY_RESOURCE: 2,  # the job may take its workers down
    C.ERROR_CATEGORY_UNKNOWN: 1,
    C.ERROR_CATEGORY_VALIDATION: 1,
    C.ERROR_CATEGORY_NETWORK: 1,
    C.ERROR_CATEGORY_TIMEOUT: 1,
    C.ERROR_CATEGORY_RATE_LIMIT: 0,  # passes by itself
}
# (at least this many attempts, points): the first row that holds.
ATTEMPT_POINTS: Final = ((5, 1), (0, 0))
# (died within this many ms of being enqueued, points): the first row that holds; else STALE_POINTS.
RECENCY_POINTS: Final = ((60_000, 1), (3_600_000, 0))
STALE_POINTS: Final = -1
# (at least this many points, level): the first row that holds.
LEVELS: Final = (
    (6, C.RISK_LEVEL_CRITICAL),
    (4, C.RISK_LEVEL_HIGH),
    (3, C.RISK_LEVEL_MEDIUM),
)
LOWEST: Final = C.RISK_LEVEL_LOW


def points(queue: str, category: int, attempts: int, lived_ms: int) -> int:
    """The sum of the table rows that apply."""
    total = QUEUE_POINTS.get(queue, 1) + CATEGORY_POINTS.get(category, 1)
    total += next(p for at_least, p in ATTEMPT_POINTS if attempts >= at_least)
    total += next((p for within, p in RECENCY_POINTS if lived_ms <= within), STALE_POINTS)
    return total


def level(score: int) -> int:
    """The RiskLevel of a score."""
    return next((lvl for at_least, lvl in LEVELS if score >= at_least), LOWEST)


def assess(failed: failure_pb2.FailedJob, category: int) -> int:
    """The RiskLevel of a dead letter of `category`."""
    enqueued = failed.enqueued_at.ToMilliseconds() if failed.HasField("enqueued_at") else 0
    died = failed.dead_lettered_at.ToMilliseconds()
    lived_ms = max(0, died - enqueued) if enqueued else 0
    return level(points(failed.queue, category, failed.attempts_made, lived_ms))
