"""Adding jobs: encode checked jobs in their envelope and add them in batches, riding out outages.

The producer adds only `CheckedJobs` (validation happened once, on the way
in, for the whole batch: nothing is sent before every job passed). Jobs are
encoded as binary `Job` envelopes and added by enqueue.lua. A batch goes in
script calls of STREAM_CHUNK jobs written to one connection one after the
other, each as soon as it is encoded: Redis adds the first part while the
next is encoded, and every reply is read after the last. Each call carries a
receipt token: when Redis goes away mid-add, the add waits and is sent again
(up to the ride-out bound) with the same job ids and receipts, and a call
whose first try did land answers what that try did, so no job is ever added
twice.

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf.timestamp_pb2 import Timestamp
from redis.exceptions import NoScriptError

from queue_system.envelope import JobIds, JobRequest, envelope_bytes
from queue_system.keys import NORMAL_LANE, RECEIPT_MARGIN_MS
from queue_system.link import RedisLink
from queue_system.options import duration_ms, lane_of
from queue_system.outages import Outage, ride_out
from queue_system.queue import NewJob, RedisQueue, added_flags, run_streamed
from queue_system.validation.jobs import CheckedJobs

log = logging.getLogger(__name__)

# Jobs per script call of a batch. Small enough that Redis starts adding soon
# after the batch was checked (and the last call leaves the client idle
# briefly); large enough that the calls' own cost stays small.
STREAM_CHUNK: Final = 100


@dataclass(frozen=True, slots=True)
class Added:
    """The outcome of one add: the job id, and whether it was new."""

    queue: str
    job_id: str
    added: bool
    delayed: bool
    lane: int


@dataclass(slots=True)
class _Call:
    """One script call of an add: its queue, the positions of its jobs in the add, its receipt,
    and, once encoded, its jobs and its command (kept: a call sent again is the same call)."""

    queue: str
    part: Sequence[int]
    receipt: str
    jobs: list[NewJob] | None = None
    command: list[Any] | None = None


def _calls(queues: Sequence[str], receipts: Iterator[str]) -> list[_Call]:
    """The script calls of an add: per queue, STREAM_CHUNK jobs each, in request order."""
    by_queue: dict[str, list[int]] = defaultdict(list)
    for i, queue in enumerate(queues):
        by_queue[queue].append(i)
    return [
        _Call(queue, idx[start : start + STREAM_CHUNK], next(receipts))
        for queue, idx in by_queue.items()
        for start in range(0, len(idx), STREAM_CHUNK)
    ]


# An add waiting for the send out to be answered: its encoded jobs, and where its results go.
_Waiting = tuple[Sequence[tuple[str, NewJob]], "asyncio.Future[list[Added]]"]


class Producer:
    """Adds jobs to the queues it knows (one RedisQueue per name)."""

    def __init__(
        self, queues: dict[str, RedisQueue], *, ride_out_ms: int, link: RedisLink | None = None
    ) -> None:
        self.queues = queues
        self.ride_out_ms = ride_out_ms
        # single calls go over it (its own pipelined connection; far less client CPU than the pool)
        self.link = link
        self.ids = JobIds()
        # unique as job ids are (a random stem per producer, then a counter): no urandom call per add
        stem = os.urandom(6).hex()
        self._receipts = (f"{stem}-{n:x}" for n in itertools.count(1))
        # group commit: while a send is out, later adds wait here and go together next
        self._sending = False
        self._waiting: list[_Waiting] = []
        self._next_sends: set[asyncio.Task[None]] = set()

    def new_job(self, r: JobRequest, now: Timestamp) -> NewJob:
        """A request's job: id from options.job_id, else a fresh one; its envelope stamped `now`."""
        opts = r.options
        if opts is None:
            job_id = self.ids()
            return NewJob(job_id, envelope_bytes(r, job_id, now), NORMAL_LANE, 0)
        job_id = opts.job_id or self.ids()
        return NewJob(
            job_id,
            envelope_bytes(r, job_id, now),
            lane_of(opts.priority),
            duration_ms(opts.delay),
            opts.group_key,
            opts.supersede_waiting,
        )

    def encode(self, jobs: CheckedJobs) -> list[tuple[str, NewJob]]:
        """Each job's queue and its NewJob (all stamped with one time)."""
        now = _now()
        return [(r.queue, self.new_job(r, now)) for r in jobs.requests]

    async def add(self, jobs: CheckedJobs) -> list[Added]:
        """Add checked jobs; results in request order.

        Sent at once, each call's jobs are encoded just before the call is
        written, so encoding overlaps Redis adding the calls before it; while
        another send is out they wait to go with the next (group commit).
        """
        requests, now = jobs.requests, _now()
        if self._sending:
            return await self._join([(r.queue, self.new_job(r, now)) for r in requests])

        def encode(call: _Call) -> list[NewJob]:
            return [self.new_job(requests[i], now) for i in call.part]

        return await self._first(_calls([r.queue for r in requests], self._receipts), encode)

    async def send(self, encoded: Sequence[tuple[str, NewJob]]) -> list[Added]:
        """Add jobs already encoded (a taskiq kick); results in order. Straight out when no other
        send is out, else with every add that comes meanwhile, once the one out is answered."""
        if self._sending:
            return await self._join(encoded)
        return await self._first(*self._encoded_calls(encoded))

    def _encoded_calls(
        self, encoded: Sequence[tuple[str, NewJob]]
    ) -> tuple[list[_Call], Callable[[_Call], list[NewJob]]]:
        def encode(call: _Call) -> list[NewJob]:
            return [encoded[i][1] for i in call.part]

        return _calls([queue for queue, _ in encoded], self._receipts), encode

    async def _first(self, calls: list[_Call], encode: Callable[[_Call], list[NewJob]]) -> list[Added]:
        """The send that goes out at once; the adds that came meanwhile follow it together."""
        self._sending = True
        try:
            return await self._add(calls, encode)
        finally:
            self._send_waiting()

    async def _join(self, encoded: Sequence[tuple[str, NewJob]]) -> list[Added]:
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
            results = await self._add(*self._encoded_calls([job for encoded, _ in group for job in encoded]))
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

    async def _add(self, calls: list[_Call], encode: Callable[[_Call], list[NewJob]]) -> list[Added]:
        """Run the calls; through an outage wait and try again for up to `ride_out_ms`, then
        raise UnavailableError.

        One call goes straight to Redis; several are written to one connection as
        each is encoded (queue.run_streamed), so Redis runs one while the next is
        encoded. A call sent again is the same call: same job ids, same receipt.
        A Redis that forgot the scripts (a restart) gets them again and the calls
        are sent again, which the receipts make safe.
        """
        keep_ms = self.ride_out_ms + RECEIPT_MARGIN_MS

        def jobs_of(call: _Call) -> list[NewJob]:
            if call.jobs is None:
                call.jobs = encode(call)
            return call.jobs

        def command(call: _Call) -> list[Any]:
            if call.command is None:
                call.command = self.queues[call.queue].enqueue_command(jobs_of(call), call.receipt, keep_ms)
            return call.command

        async def attempt() -> list[Any]:
            first = self.queues[calls[0].queue]
            if len(calls) == 1:
                return [await first.enqueue(jobs_of(calls[0]), calls[0].receipt, keep_ms, self.link)]
            try:
                return await run_streamed(first.client, (command(c) for c in calls))
            except NoScriptError:
                await first.load_script("enqueue")
                return await run_streamed(first.client, (command(c) for c in calls))

        replies = await ride_out(attempt, Outage("add", log), bound_s=self.ride_out_ms / 1000)
        results: list[Added | None] = [None] * sum(len(c.part) for c in calls)
        for call, reply in zip(calls, replies, strict=True):
            for i, nj, flag in zip(call.part, jobs_of(call), added_flags(reply), strict=True):
                results[i] = Added(call.queue, nj.job_id, flag, nj.delay_ms > 0, nj.lane)
        return [r for r in results if r is not None]


def _now() -> Timestamp:
    now = Timestamp()
    now.FromNanoseconds(time.time_ns())
    return now
