"""Adding jobs: validate, wrap in the envelope, and add in batches.

Every add is validated first (a bad job raises InvalidArgumentError naming the
fields and nothing of the batch is added), then encoded as a binary `Job`
envelope and added by enqueue.lua, 1,000 jobs per script call, all calls of a
batch pipelined in one round trip.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf.timestamp_pb2 import Timestamp

from jobmesh.jobs.v1 import envelope_pb2
from queue_system.options import NORMAL_LANE, duration_ms, lane_of
from queue_system.queue import NewJob, RedisQueue
from queue_system.validation import check, validate_enqueue_batch

CHUNK = 1000
_NO_OPTIONS: Final = envelope_pb2.JobOptions()


@dataclass(frozen=True, slots=True)
class JobRequest:
    """One job to add: queue, payload, options, and optional trace and task name."""

    queue: str
    payload: envelope_pb2.JobPayload
    options: envelope_pb2.JobOptions | None = None
    trace: envelope_pb2.TraceContext | None = None
    task_name: str = ""


@dataclass(frozen=True, slots=True)
class Added:
    """The outcome of one add: the job id, and whether it was new."""

    queue: str
    job_id: str
    added: bool
    delayed: bool
    lane: int


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


class Producer:
    """Adds jobs to the queues it knows (one RedisQueue per name)."""

    def __init__(self, queues: dict[str, RedisQueue], *, validate: bool = True) -> None:
        self.queues = queues
        self.validate = validate
        self.ids = JobIds()

    def encode(self, reqs: Sequence[JobRequest]) -> list[tuple[str, NewJob]]:
        """Validate and encode; raises InvalidArgumentError before anything is sent."""
        if self.validate:
            check(
                validate_enqueue_batch(
                    [(r.queue, r.payload, r.options or envelope_pb2.JobOptions()) for r in reqs]
                )
            )
        now = Timestamp()
        now.FromNanoseconds(time.time_ns())
        out = []
        for r in reqs:
            opts = r.options
            job_id = (opts.job_id if opts is not None else "") or self.ids()
            delay = duration_ms(opts.delay) if opts is not None else 0
            lane = lane_of(opts.priority) if opts is not None else NORMAL_LANE
            out.append((r.queue, NewJob(job_id, envelope_bytes(r, job_id, now), lane, delay)))
        return out

    async def add(self, reqs: Sequence[JobRequest]) -> list[Added]:
        """Add jobs, 1,000 per script call; results in request order.

        One call goes straight to Redis; several go in one pipelined round trip
        (a pipeline first asks Redis whether it knows the scripts: a round trip
        a single add should not pay).
        """
        encoded = self.encode(reqs)
        by_queue: dict[str, list[int]] = defaultdict(list)
        for i, (queue, _) in enumerate(encoded):
            by_queue[queue].append(i)
        chunks = [
            (queue, idx[start : start + CHUNK])
            for queue, idx in by_queue.items()
            for start in range(0, len(idx), CHUNK)
        ]
        if len(chunks) == 1:
            queue, part = chunks[0]
            replies: list[Any] = [await self.queues[queue].enqueue([encoded[i][1] for i in part])]
        else:
            first = next(iter(self.queues.values()))
            async with first.client.pipeline(transaction=False) as pipe:
                for queue, part in chunks:
                    await self.queues[queue].enqueue([encoded[i][1] for i in part], client=pipe)
                replies = await pipe.execute()
        results: list[Added | None] = [None] * len(encoded)
        for (_, part), reply in zip(chunks, replies, strict=True):
            for i, flag in zip(part, reply, strict=True):
                queue, nj = encoded[i]
                results[i] = Added(queue, nj.job_id, bool(flag), nj.delay_ms > 0, nj.lane)
        return [r for r in results if r is not None]
