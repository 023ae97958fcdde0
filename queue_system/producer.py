"""Adding jobs: encode checked jobs in their envelope and add them in batches, riding out outages.

The producer adds only `CheckedJobs` (validation happened once, on the way
in). Jobs are encoded as binary `Job` envelopes and added by enqueue.lua,
1,000 jobs per script call, all calls of a batch pipelined in one round trip.
Each call carries a receipt token: when Redis goes away mid-add, the add
waits and is sent again (up to the ride-out bound), and a call whose first
try did land answers what that try did, so no job is ever added twice.

Adds that come while another add is on its way to Redis are not sent one by
one: they wait for it and then go together, in one send (group commit). One
add at a time goes straight out as before, so a lone add waits for nothing;
fifty concurrent single adds (fifty EnqueueJob calls in flight) cost a few
script calls instead of fifty round trips through the client and Redis. Each
add still gets its own results, in its own order; an add that fails (Redis
away past the ride-out bound) fails every add that went with it, as each
would have failed alone.
"""

from __future__ import annotations

import asyncio
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


# An add waiting for the send out to be answered: its encoded jobs, and where its results go.
_Waiting = tuple[Sequence[tuple[str, NewJob]], "asyncio.Future[list[Added]]"]


class Producer:
    """Adds jobs to the queues it knows (one RedisQueue per name)."""

    def __init__(self, queues: dict[str, RedisQueue], *, ride_out_ms: int) -> None:
        self.queues = queues
        self.ride_out_ms = ride_out_ms
        self.ids = JobIds()
        self._receipts = (f"{os.urandom(6).hex()}-{n:x}" for n in itertools.count(1))
        # group commit: while a send is out, later adds wait here and go together next
        self._sending = False
        self._waiting: list[_Waiting] = []
        self._next_sends: set[asyncio.Task[None]] = set()

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
        """Add encoded jobs; results in order. Straight out when no other send is out, else with
        every add that comes meanwhile, in one send once the one out is answered (group commit)."""
        if not self._sending:
            self._sending = True
            try:
                return await self._send_now(encoded)
            finally:
                self._send_waiting()
        answer: asyncio.Future[list[Added]] = asyncio.get_running_loop().create_future()
        self._waiting.append((encoded, answer))
        return await answer

    def _send_waiting(self) -> None:
        """Send every add that waited, together (in a task of its own: its callers wait on futures)."""
        if not self._waiting:
            self._sending = False
            return
        group, self._waiting = self._waiting, []
        task = asyncio.get_running_loop().create_task(self._send_group(group))
        self._next_sends.add(task)
        task.add_done_callback(self._next_sends.discard)

    async def _send_group(self, group: list[_Waiting]) -> None:
        try:
            results = await self._send_now([job for encoded, _ in group for job in encoded])
        except asyncio.CancelledError:
            for _, answer in group:
                answer.cancel()
            raise
        except Exception as exc:
            for _, answer in group:
                if not answer.done():
                    answer.set_exception(exc)
        else:
            start = 0
            for encoded, answer in group:
                if not answer.done():  # its caller may have given up (cancelled)
                    answer.set_result(results[start : start + len(encoded)])
                start += len(encoded)
        finally:
            self._send_waiting()

    async def _send_now(self, encoded: Sequence[tuple[str, NewJob]]) -> list[Added]:
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
