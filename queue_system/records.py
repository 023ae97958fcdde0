"""Read a job's record (its Redis hash) back into a `JobInfo`."""

from __future__ import annotations

from collections.abc import Mapping

from google.protobuf.any_pb2 import Any as AnyMsg

from jobmesh.jobs.v1 import envelope_pb2
from jobmesh.queue.v1 import queue_pb2
from queue_system.failure import history_from_hash, timestamp_ms


def job_info(fields: Mapping[bytes, bytes], state: int) -> queue_pb2.JobInfo:
    """JobInfo from a job hash (see lua/common.lua for the field names)."""
    job = envelope_pb2.Job.FromString(fields[b"env"])
    attempts = int(fields.get(b"att", b"0"))
    job.attempt = attempts + (1 if state == envelope_pb2.JOB_STATE_ACTIVE else 0)
    errors, _ = history_from_hash(fields)
    info = queue_pb2.JobInfo(
        job=job,
        state=state,  # type: ignore[arg-type]
        attempts_made=attempts,
        deliveries=int(fields.get(b"dlv", b"0")),
        progress=float(fields.get(b"prog", b"0")),
        errors=errors,
        worker=fields.get(b"w", b"").decode(),
    )
    if errors:
        info.failed_reason = f"{errors[-1].error_type}: {errors[-1].message}"
    if b"why" in fields and not errors:
        info.failed_reason = fields[b"why"].decode()
    for key, target in ((b"pon", info.processed_at), (b"fon", info.finished_at), (b"due", info.ready_at)):
        if key in fields:
            target.CopyFrom(timestamp_ms(float(fields[key])))
    if b"res" in fields:
        info.result.CopyFrom(AnyMsg.FromString(fields[b"res"]))
    return info
