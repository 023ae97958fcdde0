"""Read a job's record (its Redis hash, fields in keys.JobField) back into a `JobInfo`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from google.protobuf.any_pb2 import Any as AnyMsg

from jobmesh.jobs.v1 import envelope_pb2
from jobmesh.queue.v1 import queue_pb2
from queue_system.failure import history_from_hash, timestamp_ms
from queue_system.keys import JobField

_F: Final = {name: getattr(JobField, name).encode() for name in vars(JobField) if name.isupper()}
ENVELOPE: Final = _F["ENVELOPE"]
_SUPERSEDED_BY: Final = JobField.SUPERSEDED_BY.encode()


def job_info(fields: Mapping[bytes, bytes], state: int) -> queue_pb2.JobInfo:
    """JobInfo from a job hash."""
    job = envelope_pb2.Job.FromString(fields[ENVELOPE])
    attempts = int(fields.get(_F["ATTEMPTS_MADE"], b"0"))
    job.attempt = attempts + (1 if state == envelope_pb2.JOB_STATE_ACTIVE else 0)
    errors, _ = history_from_hash(fields)
    info = queue_pb2.JobInfo(
        job=job,
        state=state,  # type: ignore[arg-type]
        attempts_made=attempts,
        deliveries=int(fields.get(_F["DELIVERIES"], b"0")),
        progress=float(fields.get(_F["PROGRESS"], b"0")),
        errors=errors,
        worker=fields.get(_F["WORKER"], b"").decode(),
    )
    if _F["FAILED_REASON"] in fields:
        info.failed_reason = fields[_F["FAILED_REASON"]].decode()
    elif _SUPERSEDED_BY in fields:
        info.failed_reason = (
            f"superseded by job {fields[_SUPERSEDED_BY].decode()} of group {job.options.group_key} "
            "before it started"
        )
    elif errors:
        info.failed_reason = f"{errors[-1].error_type}: {errors[-1].message}"
    for key, target in (
        (_F["STARTED_AT"], info.processed_at),
        (_F["FINISHED_AT"], info.finished_at),
        (_F["DUE_AT"], info.ready_at),
    ):
        if key in fields:
            target.CopyFrom(timestamp_ms(float(fields[key])))
    if _F["RESULT"] in fields:
        info.result.CopyFrom(AnyMsg.FromString(fields[_F["RESULT"]]))
    return info
