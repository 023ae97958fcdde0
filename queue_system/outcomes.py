"""What becomes of a delivered job: pure decisions, apart from Redis and the handler.

Before a job runs: does it run at all (`refusal`)? After its handler raised:
is it tried again, when, or does it leave for the dead-letter stream
(`after_failure`)? Every reason is a sentence a person can read, because it
ends up in JobInfo.failed_reason, the dead letter and the operator's alert.
"""

from __future__ import annotations

import time
from collections.abc import Container
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from jobmesh.jobs.v1 import envelope_pb2, failure_pb2
from queue_system.options import attempts_of, backoff_ms
from queue_system.queue import Delivery

R = failure_pb2  # DeadLetterReason values
# A handler's own wait before its next attempt is held to this (a week).
LONGEST_RETRY_AFTER_MS: Final = 7 * 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Retry:
    """Try the job again after `wait_ms`."""

    wait_ms: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """The job leaves its queue for the dead-letter stream."""

    reason: int  # DeadLetterReason
    detail: str  # why, as a sentence


def refusal(
    d: Delivery,
    *,
    job: envelope_pb2.Job,
    task_name: str,
    known_tasks: Container[str],
    max_deliveries: int,
) -> DeadLetter | None:
    """Why a delivered job must go to the dead-letter stream without running, if it must.

    `task_name` is the task the job needs ("" for a probe that names none: it runs nothing).
    """
    if d.attempt_deliveries > max_deliveries:
        return DeadLetter(
            R.DEAD_LETTER_REASON_DELIVERIES_EXCEEDED,
            f"attempt {d.attempts_made + 1} was delivered {d.attempt_deliveries} times and its worker "
            f"stopped every time before it finished (at most {max_deliveries} deliveries allowed): "
            "the job itself probably kills its worker",
        )
    if task_name and task_name not in known_tasks:
        return DeadLetter(
            R.DEAD_LETTER_REASON_UNKNOWN_TASK,
            f"no worker of queue {job.queue or '?'} has a task named {task_name!r}, so nothing can run it",
        )
    if job.HasField("deadline") and job.deadline.ToMilliseconds() < time.time() * 1000:
        return DeadLetter(
            R.DEAD_LETTER_REASON_DEADLINE_EXCEEDED,
            f"it was due to start by {job.deadline.ToJsonString()} and was found past that deadline",
        )
    return None


def _retry_after_ms(exc: BaseException) -> int | None:
    """The wait a handler's error asks for (`retry_after`: seconds or a timedelta), if any."""
    raw = getattr(exc, "retry_after", None)
    if isinstance(raw, timedelta):
        raw = raw.total_seconds()
    if isinstance(raw, int | float) and raw >= 0:
        return min(LONGEST_RETRY_AFTER_MS, int(raw * 1000))
    return None


def _retryable(exc: BaseException, throws: tuple[type[BaseException], ...]) -> bool:
    return getattr(exc, "retryable", True) is not False and not isinstance(exc, throws)


def after_failure(
    d: Delivery,
    options: envelope_pb2.JobOptions,
    exc: BaseException,
    throws: tuple[type[BaseException], ...] = (),
) -> Retry | DeadLetter:
    """The failed attempt's sequel: another attempt (and its wait), or the dead-letter stream."""
    attempt = d.attempts_made + 1
    error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if not _retryable(exc, throws):
        return DeadLetter(
            R.DEAD_LETTER_REASON_UNRECOVERABLE,
            f"attempt {attempt} failed with an error that is never retried: {error}",
        )
    in_series = d.attempts_in_series + 1
    allowed = attempts_of(options)
    if in_series < allowed:
        wait = _retry_after_ms(exc)
        return Retry(backoff_ms(options.backoff, in_series) if wait is None else wait)
    if allowed == 1:
        detail = f"its only attempt (attempt {attempt}) failed with {error}"
    else:
        detail = f"all {allowed} attempts failed; the last (attempt {attempt}) with {error}"
    return DeadLetter(R.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED, detail)
