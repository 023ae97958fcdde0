"""What becomes of a job after its handler raised, decided without Redis: retried when, dead-lettered why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import failure_pb2 as r
from queue_system.errors import RetryAfterError, UnrecoverableError
from queue_system.outcomes import DeadLetter, Retry, after_failure, refusal
from queue_system.queue import Delivery


def delivery(attempts_made: int = 0, series_start: int = 0, attempt_deliveries: int = 1) -> Delivery:
    return Delivery(3, b"1-0", "j1", b"", attempts_made, series_start, attempts_made + 1, attempt_deliveries)


def options(attempts: int, delay_ms: int = 1000, kind: int = env.BACKOFF_TYPE_FIXED) -> env.JobOptions:
    opts = env.JobOptions(attempts=attempts, backoff=env.Backoff(type=kind))  # type: ignore[arg-type]
    opts.backoff.delay.FromMilliseconds(delay_ms)
    return opts


class VenueRejectedError(Exception):
    retryable = False


class RateLimitedError(Exception):
    def __init__(self, after: float | timedelta) -> None:
        super().__init__("429 Too Many Requests")
        self.retry_after = after


def test_an_attempt_with_attempts_left_is_retried_after_its_backoff() -> None:
    assert after_failure(delivery(0), options(3), ConnectionError("down")) == Retry(1000)
    exponential = options(5, 200, env.BACKOFF_TYPE_EXPONENTIAL)
    assert [after_failure(delivery(n), exponential, OSError()) for n in range(4)] == [
        Retry(200),
        Retry(400),
        Retry(800),
        Retry(1600),
    ]


def test_the_last_attempt_is_dead_lettered_with_a_sentence() -> None:
    verdict = after_failure(delivery(2), options(3), ConnectionError("venue down"))
    assert verdict == DeadLetter(
        r.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED,
        "all 3 attempts failed; the last (attempt 3) with ConnectionError: venue down",
    )
    only = after_failure(delivery(0), env.JobOptions(), KeyError("acc_1"))
    assert only == DeadLetter(
        r.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED, "its only attempt (attempt 1) failed with KeyError: 'acc_1'"
    )


def test_a_redriven_job_counts_its_attempts_from_the_start_of_its_series() -> None:
    # four attempts made before an operator put it back; three allowed per series
    assert after_failure(delivery(4, series_start=4), options(3), OSError()) == Retry(1000)
    assert after_failure(
        delivery(5, series_start=4), options(3, 100, env.BACKOFF_TYPE_EXPONENTIAL), OSError()
    ) == (Retry(200))
    verdict = after_failure(delivery(6, series_start=4), options(3), OSError("x"))
    assert isinstance(verdict, DeadLetter) and "the last (attempt 7)" in verdict.detail


@pytest.mark.parametrize(
    ("exc", "throws"),
    [
        (UnrecoverableError("bad account"), ()),
        (VenueRejectedError("insufficient margin"), ()),
        (ValueError("symbol unknown"), (ValueError,)),
    ],
    ids=["unrecoverable", "retryable-false", "task-throws"],
)
def test_errors_marked_never_retried_are_dead_lettered_with_attempts_left(
    exc: Exception, throws: tuple[type[BaseException], ...]
) -> None:
    verdict = after_failure(delivery(0), options(5), exc, throws)
    assert isinstance(verdict, DeadLetter) and verdict.reason == r.DEAD_LETTER_REASON_UNRECOVERABLE
    assert verdict.detail.startswith("attempt 1 failed with an error that is never retried: ")
    assert str(exc) in verdict.detail


def test_an_error_may_set_its_own_wait_over_the_backoff() -> None:
    assert after_failure(delivery(0), options(3), RetryAfterError("429", 30)) == Retry(30_000)
    assert after_failure(delivery(0), options(3), RateLimitedError(timedelta(seconds=1.5))) == Retry(1500)
    assert after_failure(delivery(0), options(3), RateLimitedError(0.25)) == Retry(250)
    # a negative or nonsense wait is ignored: the backoff stands
    assert after_failure(delivery(0), options(3), RateLimitedError(-1)) == Retry(1000)
    # the wait does not grant an attempt: with none left, it is dead-lettered
    assert isinstance(after_failure(delivery(2), options(3), RateLimitedError(1)), DeadLetter)


def test_a_job_that_keeps_stopping_its_worker_is_refused_with_a_sentence() -> None:
    job = env.Job(id="j1", queue="categorization")
    verdict = refusal(
        delivery(0, attempt_deliveries=4),
        job=job,
        task_name="categorization",
        known_tasks={"categorization"},
        max_deliveries=3,
    )
    assert verdict is not None and verdict.reason == r.DEAD_LETTER_REASON_DELIVERIES_EXCEEDED
    assert verdict.detail.startswith("attempt 1 was delivered 4 times and its worker stopped every time")
    ok = refusal(
        delivery(0, attempt_deliveries=3),
        job=job,
        task_name="categorization",
        known_tasks={"categorization"},
        max_deliveries=3,
    )
    assert ok is None


def test_an_unknown_task_and_a_passed_deadline_are_refused() -> None:
    job = env.Job(id="j1", queue="categorization")
    unknown = refusal(
        delivery(), job=job, task_name="nope", known_tasks=set(), max_deliveries=3
    )
    assert unknown == DeadLetter(
        r.DEAD_LETTER_REASON_UNKNOWN_TASK,
        "no worker of queue categorization has a task named 'nope', so nothing can run it",
    )
    job.deadline.FromSeconds(1_700_000_000)
    late = refusal(
        delivery(), job=job, task_name="t", known_tasks={"t"}, max_deliveries=3
    )
    assert late is not None and late.reason == r.DEAD_LETTER_REASON_DEADLINE_EXCEEDED
    assert "2023-11-14T22:13:20Z" in late.detail
