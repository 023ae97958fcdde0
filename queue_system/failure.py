"""Records of failure: one attempt's error, and the FailedJob a dead letter carries."""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from jobmesh.jobs.v1 import envelope_pb2, failure_pb2
from queue_system.keys import JobField
from queue_system.queue import Delivery

MAX_MESSAGE = 2000
MAX_STACK = 4000
_ERROR = JobField.ERROR_PREFIX.encode()
_REDELIVERY = JobField.REDELIVERY_PREFIX.encode()


def timestamp_ms(ms: float) -> Timestamp:
    """A Timestamp of a millisecond epoch (Redis keeps times in ms)."""
    t = Timestamp()
    t.FromMilliseconds(int(ms))
    return t


def attempt_error(
    exc: BaseException, attempt: int, started_ms: float, worker: str
) -> failure_pb2.AttemptError:
    """The error of one failed attempt, with a trimmed traceback."""
    stack = "".join(traceback.format_exception(exc, limit=-8))
    return failure_pb2.AttemptError(
        attempt=attempt,
        error_type=type(exc).__name__,
        error_bases=[c.__name__ for c in type(exc).__mro__[1:] if c is not object],
        message=str(exc)[:MAX_MESSAGE] or type(exc).__name__,
        stack=stack[-MAX_STACK:],
        started_at=timestamp_ms(started_ms),
        failed_at=timestamp_ms(time.time() * 1000),
        worker=worker,
    )


def worker_lost_error(d: Delivery, detail: str) -> failure_pb2.AttemptError:
    """The error of an attempt that never finished because its worker kept stopping.

    It counts as an attempt made: the job did run, several times, and took its
    worker down each time.
    """
    now = time.time() * 1000
    return failure_pb2.AttemptError(
        attempt=d.attempts_made + 1,
        error_type="WorkerLost",
        message=detail[:MAX_MESSAGE],
        failed_at=timestamp_ms(now),
        started_at=timestamp_ms(now),
    )


def history_from_hash(
    fields: Mapping[bytes, bytes],
) -> tuple[list[failure_pb2.AttemptError], list[failure_pb2.Redelivery]]:
    """Errors (error:<attempt>) and takeovers (redelivery:<delivery>) kept on a job hash."""
    errors: list[tuple[int, failure_pb2.AttemptError]] = []
    redeliveries: list[tuple[int, failure_pb2.Redelivery]] = []
    for key, value in fields.items():
        if key.startswith(_ERROR):
            errors.append((int(key[len(_ERROR) :]), failure_pb2.AttemptError.FromString(value)))
        elif key.startswith(_REDELIVERY):
            delivery = int(key[len(_REDELIVERY) :])
            holder, idle, at = value.decode().rsplit("|", 2)
            redeliveries.append(
                (
                    delivery,
                    failure_pb2.Redelivery(
                        delivery=delivery,
                        lost_by=holder,
                        idle=Duration(seconds=int(idle) // 1000, nanos=(int(idle) % 1000) * 1_000_000),
                        reclaimed_at=timestamp_ms(int(at)),
                    ),
                )
            )
    return [e for _, e in sorted(errors, key=lambda x: x[0])], [
        r for _, r in sorted(redeliveries, key=lambda x: x[0])
    ]


def failed_job(
    *,
    queue: str,
    job_id: str,
    job: envelope_pb2.Job | None,
    raw_envelope: bytes,
    reason: int,
    detail: str,
    deliveries: int,
    attempts_made: int,
    fields: Mapping[bytes, bytes],
    last_error: failure_pb2.AttemptError | None,
) -> failure_pb2.FailedJob:
    """Everything dlq_svc needs about a job leaving its queue."""
    errors, redeliveries = history_from_hash(fields)
    if last_error is not None:
        errors = [e for e in errors if e.attempt != last_error.attempt] + [last_error]
    out = failure_pb2.FailedJob(
        reason=reason,  # type: ignore[arg-type]
        errors=errors,
        redeliveries=redeliveries,
        deliveries=deliveries,
        dead_lettered_at=timestamp_ms(time.time() * 1000),
        queue=queue,
        job_id=job_id,
        detail=detail[:MAX_MESSAGE],
        attempts_made=attempts_made,
    )
    if job is not None:
        out.job.CopyFrom(job)
        out.enqueued_at.CopyFrom(job.enqueued_at)
    else:
        out.raw_envelope = raw_envelope
    return out
