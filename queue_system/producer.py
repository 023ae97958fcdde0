"""Adding jobs: encode checked jobs in their envelope and add them in batches, riding out outages.

The producer adds only `CheckedJobs` (validation happened once, on the way
in). Jobs are encoded as binary `Job` envelopes and added by enqueue.lua,
1,000 jobs per script call, all calls of a batch pipelined in one round trip.
Each call carries a receipt token: when Redis goes away mid-add, the add
waits and is sent again (up to the ride-out bound), and a call whose first
try did land answers what that try did, so no job is ever added twice.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf.timestamp_pb2 import Timestamp

from queue_system.envelope import JobIds, envelope_bytes
from queue_system.keys import NORMAL_LANE, RECEIPT_MARGIN_MS
from queue_system.options import duration_ms, lane_of
from queue_system.outages import Outage, ride_out
from queue_system.queue import NewJob, RedisQueue
from queue_system.validation.jobs import CheckedJobs

log = logging.getLogger(__name__)

CHUNK: Final = 1000


@dataclass(frozen=True, slots=True)
class Added:
    """The outcome of one add: the job id, and whether it was new."""

    queue: str
    job_id: str
    added: bool
    delayed: bool
    lane: int


class Producer:
    """Adds jobs to the queues it knows (one RedisQueue per name)."""

    def __init__(self, queues: dict[str, RedisQueue], *, ride_out_ms: int) -> None:
        self.queues = queues
        self.ride_out_ms = ride_out_ms
        self.ids = JobIds()
        self._receipts = (f"{os.urandom(6).hex()}-{n:x}" for n in itertools.count(1))

    def encode(self, jobs: CheckedJobs) -> list[tuple[str, NewJob]]:
        """Each job's queue and envelope; ids come from options.job_id, else a fresh one."""
        now = Timestamp()
        now.FromNanoseconds(time.time_ns())
        out = []
        for r in jobs.requests:
            opts = r.options
            job_id = (opts.job_id if opts is not None else "") or self.ids()
            delay = duration_ms(opts.delay) if opts is not None else 0
            lane = lane_of(opts.priority) if opts is not None else NORMAL_LANE
            group, supersede = (opts.group_key, opts.supersede_waiting) if opts is not None else ("", False)
            out.append(
                (r.queue, NewJob(job_id, envelope_bytes(r, job_id, now), lane, delay, group, supersede))
            )
        return out

    async def add(self, jobs: CheckedJobs) -> list[Added]:
        """Add checked jobs; results in request order."""
        return await self.send(self.encode(jobs))

    async def send(self, encoded: Sequence[tuple[str, NewJob]]) -> list[Added]:
        """Add encoded jobs, 1,000 per script call; results in order.

        One call goes straight to Redis; several go in one pipelined round trip
        (a pipeline first asks Redis whether it knows the scripts: a round trip
        a single add should not pay). Through an outage the add waits and tries
        again for up to `ride_out_ms`, then raises UnavailableError.
        """
        by_queue: dict[str, list[int]] = defaultdict(list)
        for i, (queue, _) in enumerate(encoded):
            by_queue[queue].append(i)
        chunks = [
            (queue, idx[start : start + CHUNK], next(self._receipts))
            for queue, idx in by_queue.items()
            for start in range(0, len(idx), CHUNK)
        ]
        keep_ms = self.ride_out_ms + RECEIPT_MARGIN_MS

        async def attempt() -> list[Any]:
            if len(chunks) == 1:
                queue, part, receipt = chunks[0]
                return [await self.queues[queue].enqueue([encoded[i][1] for i in part], receipt, keep_ms)]
            first = next(iter(self.queues.values()))
            async with first.client.pipeline(transaction=False) as pipe:
                for queue, part, receipt in chunks:
                    await self.queues[queue].enqueue(
                        [encoded[i][1] for i in part], receipt, keep_ms, client=pipe
                    )
                return list(await pipe.execute())

        replies = await ride_out(attempt, Outage("add", log), bound_s=self.ride_out_ms / 1000)
        results: list[Added | None] = [None] * len(encoded)
        for (_, part, _), reply in zip(chunks, replies, strict=True):
            for i, flag in zip(part, reply, strict=True):
                queue, nj = encoded[i]
                results[i] = Added(queue, nj.job_id, bool(flag), nj.delay_ms > 0, nj.lane)
        return [r for r in results if r is not None]
