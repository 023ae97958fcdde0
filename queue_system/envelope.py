"""What travels: a job request, its id, and the binary `Job` envelope it is stored as.

The envelope is protobuf (never pickle), built once when a job is added and
read by the worker that runs it.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Final

from google.protobuf.timestamp_pb2 import Timestamp

from jobmesh.jobs.v1 import envelope_pb2

_NO_OPTIONS: Final = envelope_pb2.JobOptions()


@dataclass(frozen=True, slots=True)
class JobRequest:
    """One job to add: queue, payload, options, and optional trace and task name."""

    queue: str
    payload: envelope_pb2.JobPayload
    options: envelope_pb2.JobOptions | None = None
    trace: envelope_pb2.TraceContext | None = None
    task_name: str = ""


class JobIds:
    """Job ids unique across processes without a round trip: a random process
    stem, then a counter (`3f9a1c0b2d7e-1a`)."""

    def __init__(self) -> None:
        self._stem = os.urandom(6).hex()
        self._next = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._stem}-{next(self._next):x}"


# Tag of Job.payload (field 8, length-delimited) in the protobuf wire format.
_PAYLOAD_TAG: Final = bytes([8 << 3 | 2])


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def envelope_bytes(req: JobRequest, job_id: str, now: Timestamp) -> bytes:
    """The encoded `Job` envelope of a request.

    A protobuf message is the concatenation of its fields, so the small header
    is serialized on its own and the payload appended as field 8: the same
    bytes as building one `Job`, without copying the payload into it.
    """
    opts = req.options or _NO_OPTIONS
    header = envelope_pb2.Job(
        id=job_id,
        queue=req.queue,
        enqueued_at=now,
        priority=opts.priority,
        options=opts,
        task_name=req.task_name,
    )
    if opts.HasField("deadline"):
        header.deadline.CopyFrom(opts.deadline)
    if req.trace is not None:
        header.trace.CopyFrom(req.trace)
    payload = req.payload.SerializeToString()
    return header.SerializeToString() + _PAYLOAD_TAG + _varint(len(payload)) + payload
