"""Turn a job's `JobOptions` into the numbers the queue scripts work with.

Pure functions: the lane of a priority, a retry's backoff, a retention policy
with the queue's defaults applied. Unit-tested without Redis.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from jobmesh.jobs.v1 import envelope_pb2 as env
from queue_system.keys import LANES, NORMAL_LANE
from queue_system.settings import Retention

# Lane number (keys.LANES, 1 = first read) per priority.
LANE_OF_PRIORITY: Final[dict[int, int]] = {
    env.JOB_PRIORITY_CRITICAL: LANES.index("critical") + 1,
    env.JOB_PRIORITY_HIGH: LANES.index("high") + 1,
    env.JOB_PRIORITY_NORMAL: NORMAL_LANE,
    env.JOB_PRIORITY_UNSPECIFIED: NORMAL_LANE,
    env.JOB_PRIORITY_LOW: LANES.index("low") + 1,
}
DEFAULT_ATTEMPTS: Final = 1
DEFAULT_MAX_BACKOFF_MS: Final = 3_600_000


def lane_of(priority: int) -> int:
    return LANE_OF_PRIORITY.get(priority, NORMAL_LANE)


def duration_ms(d: object) -> int:
    """Milliseconds of a google.protobuf.Duration (0 when unset)."""
    seconds = int(getattr(d, "seconds", 0))
    nanos = int(getattr(d, "nanos", 0))
    return int(seconds * 1000 + nanos // 1_000_000)


def attempts_of(options: env.JobOptions) -> int:
    return int(options.attempts) or DEFAULT_ATTEMPTS


def backoff_ms(backoff: env.Backoff, attempts_made: int, rng: random.Random | None = None) -> int:
    """Wait before the next attempt after `attempts_made` (>= 1) failed ones.

    Fixed: `delay`. Exponential: `delay * 2^(n-1)` capped at `max_delay`
    (1 h when unset). Jitter j takes a random share of up to j off the wait.
    """
    base = duration_ms(backoff.delay)
    if base <= 0:
        return 0
    if backoff.type == env.BACKOFF_TYPE_EXPONENTIAL:
        cap = duration_ms(backoff.max_delay) if backoff.HasField("max_delay") else DEFAULT_MAX_BACKOFF_MS
        wait = min(cap, base * (1 << min(40, max(0, attempts_made - 1))))
    else:
        wait = base
    if backoff.jitter > 0:
        wait = int(wait * (1.0 - min(1.0, backoff.jitter) * (rng or random).random()))
    return max(0, wait)


@dataclass(frozen=True, slots=True)
class RetentionArgs:
    """Retention as the scripts take it: mode 1 removes at once; 0 keeps within count/age."""

    mode: int
    count: int
    age_ms: int


def retention_of(field: env.Retention, has: bool, default: Retention) -> RetentionArgs:
    """The job's retention when set (`has`), else the queue default."""
    if has:
        which = field.WhichOneof("policy")
        if which == "remove":
            return RetentionArgs(1 if field.remove else 0, 0, 0)
        if which == "keep":
            return RetentionArgs(0, field.keep.count, duration_ms(field.keep.age))
    return RetentionArgs(1 if default.remove else 0, default.count, default.age_ms)
