"""Checking whole jobs and batches: the queue, the payload that fits it, options and trace.

`checked_job` and `checked_batch` are the only way to a `CheckedJobs`, and the
producer adds nothing else: a job is validated exactly once on its way in,
whichever way it came. Paths name the request's fields: "queue",
"payload.categorization.method" for one job; "jobs[3].options.delay" in a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Final

from jobmesh.jobs.v1 import envelope_pb2
from queue_system import catalog
from queue_system.decimals import quoted
from queue_system.envelope import JobRequest
from queue_system.errors import FieldViolation
from queue_system.validation.job_rules import JOB_RULES
from queue_system.validation.rules import Violations, at, check

MAX_PAYLOAD_BYTES: Final = 256 * 1_024
# Jobs in one EnqueueJobs call or one add_jobs batch.
MAX_BATCH_JOBS: Final = 10_000

_QUEUES: Final = frozenset(catalog.ALL_QUEUES)
_PAYLOAD_KINDS: Final = tuple(
    f.name for f in envelope_pb2.JobPayload.DESCRIPTOR.oneofs_by_name["kind"].fields
)


@dataclass(frozen=True, slots=True)
class CheckedJobs:
    """Jobs that passed validation, in request order: what the producer adds."""

    requests: tuple[JobRequest, ...]


def _check_queue(queue: str, where: str) -> Violations:
    if not queue:
        yield FieldViolation(where, "required")
    elif queue not in catalog.ALL_QUEUES:
        yield FieldViolation(
            where, f"unknown queue {quoted(queue)}, must be one of {', '.join(catalog.ALL_QUEUES)}"
        )


def _check_payload(queue: str, payload: envelope_pb2.JobPayload, where: str) -> Violations:
    kind = payload.WhichOneof("kind")
    expected = catalog.PAYLOAD_FIELD.get(queue)
    if kind is None:
        fitting = (expected, catalog.PROBE_FIELD) if expected else _PAYLOAD_KINDS
        yield FieldViolation(where, f"required, one of {', '.join(fitting)}")
        return
    if expected is not None and kind not in (expected, catalog.PROBE_FIELD):
        yield FieldViolation(where, f"queue {queue} takes {expected}, got {kind}")
    size = payload.ByteSize()
    if size > MAX_PAYLOAD_BYTES:
        yield FieldViolation(where, f"is {size} bytes serialized, at most {MAX_PAYLOAD_BYTES} allowed")
    yield from JOB_RULES.check_message(getattr(payload, kind), at(where, kind))


def _passes(
    queue: str,
    payload: envelope_pb2.JobPayload,
    options: envelope_pb2.JobOptions | None,
    trace: envelope_pb2.TraceContext | None,
) -> bool:
    """Whether the full walk would find nothing: the same checks in yes/no form (RuleBook.passes).

    It may say no to a valid job (the walk then answers []), never yes to an invalid one.
    """
    kind = payload.WhichOneof("kind")
    if kind is None or queue not in _QUEUES:
        return False
    expected = catalog.PAYLOAD_FIELD.get(queue)
    if expected is not None and kind not in (expected, catalog.PROBE_FIELD):
        return False
    return (
        payload.ByteSize() <= MAX_PAYLOAD_BYTES
        and JOB_RULES.passes(getattr(payload, kind))
        and (not options or not options.ByteSize() or JOB_RULES.passes(options))
        and (trace is None or JOB_RULES.passes(trace))
    )


def validate_job(
    queue: str,
    payload: envelope_pb2.JobPayload,
    options: envelope_pb2.JobOptions | None = None,
    trace: envelope_pb2.TraceContext | None = None,
    *,
    field_prefix: str = "",
) -> list[FieldViolation]:
    """Every violation of one job; paths start with `field_prefix` (e.g. "jobs[3].").

    A job that passes the quick check is answered at once; only the others are walked
    rule by rule, so every violation is named as before.
    """
    if _passes(queue, payload, options, trace):
        return []
    return list(
        chain(
            _check_queue(queue, f"{field_prefix}queue"),
            _check_payload(queue, payload, f"{field_prefix}payload"),
            # default options are valid by construction (a test holds this): skip their walk
            JOB_RULES.check_message(options, f"{field_prefix}options")
            if options and options.ByteSize()
            else (),
            JOB_RULES.check_message(trace, f"{field_prefix}trace") if trace is not None else (),
        )
    )


def validate_batch(jobs: Sequence[JobRequest]) -> list[FieldViolation]:
    """Every violation of a batch (1..10,000 jobs), each job's under `jobs[i].`.

    A batch over the limit is answered with that alone: it must be split anyway,
    and checking (and naming) each of its jobs would be unbounded work.
    """
    if not jobs:
        return [FieldViolation("jobs", f"required, 1 to {MAX_BATCH_JOBS} jobs")]
    if len(jobs) > MAX_BATCH_JOBS:
        return [FieldViolation("jobs", f"has {len(jobs)} jobs, at most {MAX_BATCH_JOBS} allowed")]
    return [
        violation
        for i, job in enumerate(jobs)
        if not _passes(job.queue, job.payload, job.options, job.trace)
        for violation in validate_job(
            job.queue, job.payload, job.options, job.trace, field_prefix=f"jobs[{i}]."
        )
    ]


def checked_job(job: JobRequest) -> CheckedJobs:
    """One job, checked (paths as in EnqueueJobRequest); InvalidArgumentError naming every bad field."""
    check(validate_job(job.queue, job.payload, job.options, job.trace))
    return CheckedJobs((job,))


def checked_batch(jobs: Sequence[JobRequest]) -> CheckedJobs:
    """A batch, checked (paths as in EnqueueJobsRequest); InvalidArgumentError naming every bad field."""
    check(validate_batch(jobs))
    return CheckedJobs(tuple(jobs))
