"""`Worker`: runs the jobs of one queue in this process (BullMQ's Worker).

Replaces taskiq's receiver and taskiq-redis's stream listener, which lose or
hoard jobs (see DESIGN.md). A job's way through a worker, in this file:

1. read: fetch.lua hands over only as many jobs as there are free slots,
   highest lane first, within the queue's shared rate limit; with nothing
   ready the worker blocks on XREAD until a job arrives, and Redis runs the
   next fetch as soon as it does (one round trip per wake-up);
2. run: the task's handler gets the payload (and a JobContext if it asks);
3. finish: success is acknowledged in batches (complete.lua), only while this
   worker still holds the job; a failure is tried again after its backoff
   (retry.lua) or dead-lettered with its history (deadletter.lua), as
   `outcomes` decides.

Beside it run the timers of `upkeep` (leases, takeovers of dead workers'
jobs, due delayed jobs). On stop the worker reads no more, lets running jobs
finish within a grace period and gives every unfinished one back to its lane
at once, never acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

from google.protobuf.any_pb2 import Any as AnyMsg
from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage
from redis.exceptions import RedisError

from jobmesh.jobs.v1 import envelope_pb2, failure_pb2
from queue_system import metrics
from queue_system.catalog import PROBE_FIELD, RateLimit
from queue_system.context import JobContext
from queue_system.failure import attempt_error, failed_job, worker_lost_error
from queue_system.link import RedisLink
from queue_system.options import duration_ms, retention_of
from queue_system.outages import TRANSIENT, Outage, end_tasks, ride_out
from queue_system.outcomes import DeadLetter, Retry, after_failure, refusal
from queue_system.queue import EMPTY, FETCHED, LIMITED, PAUSED, Delivery, Finished, RedisQueue
from queue_system.results import ResultSink
from queue_system.settings import QueueTuning, Retention
from queue_system.tasks import TaskSpec
from queue_system.upkeep import Upkeep, nap

log = logging.getLogger(__name__)

ACK_BATCH: Final = 500
PAUSED_POLL_S: Final = 0.1
R = failure_pb2  # DeadLetterReason values


class Worker:
    """Runs the jobs of one queue with a bounded number at once."""

    def __init__(
        self,
        queue: RedisQueue,
        tasks: Mapping[str, TaskSpec],
        *,
        concurrency: int,
        limiter: RateLimit | None,
        tuning: QueueTuning,
        remove_on_complete: Retention,
        remove_on_fail: Retention,
        results: ResultSink | None = None,
    ) -> None:
        self.queue = queue
        self.results = results
        self.tasks = dict(tasks)
        self.concurrency = concurrency
        self.limiter = limiter
        self.tuning = tuning
        self.remove_on_complete = remove_on_complete
        self.remove_on_fail = remove_on_fail
        self._default_completion = retention_of(envelope_pb2.Retention(), False, remove_on_complete)
        # Jobs this worker holds (entry id -> delivery), until acknowledged,
        # retried, dead-lettered, given back or lost.
        self.held: dict[bytes, Delivery] = {}
        self._running: dict[bytes, asyncio.Task[None]] = {}
        self._to_ack: list[tuple[Finished, metrics.JobMetrics]] = []
        # Entry ids whose acknowledgement is queued or under way: the ack's own
        # holder check decides their fate, not a lease renewal racing with it.
        self._acking: set[bytes] = set()
        self._ack_wanted = asyncio.Event()
        # One flush at a time: stop()'s flush waits for a batch the ack loop has out, so a job
        # that finished is acknowledged before what is still held is given back.
        self._ack_lock = asyncio.Lock()
        self._slot_free = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._acker: asyncio.Task[None] | None = None
        self.stopping = asyncio.Event()
        # Set at the very end of stop(): renewals and acks run through the grace period.
        self.closed = asyncio.Event()
        self.upkeep = Upkeep(queue, tuning, self)
        # Read at most half the slots at a time: Redis prepares the next batch
        # while this process runs the current one, instead of the two taking
        # turns (measured: drain ~17k -> ~25k jobs/s at concurrency 100).
        self._read_at_most = max(1, concurrency // 2)
        # A job on its last allowed delivery runs alone (see reclaim.lua).
        self._solo: bytes | None = None
        # Fetched jobs waiting for a free slot (see take()).
        self._backlog: deque[Delivery] = deque()
        # The reader blocks on a connection of its own, so upkeep can end that wait (claiming());
        # acks go down another. Both pipelined links: far less CPU per call than the client's pool.
        self._read_link = RedisLink(queue.client)
        self._ack_link = RedisLink(queue.client)
        self._read_blocked: int | None = None
        self._claim_lock = asyncio.Lock()

    @property
    def consumer(self) -> str:
        """This worker's name in the queue's consumer group."""
        return self.queue.consumer

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._fetch_loop(), name=f"fetch:{self.queue.name}")
        self._acker = loop.create_task(self._ack_loop(), name=f"ack:{self.queue.name}")
        self.upkeep.start()

    @property
    def running(self) -> int:
        return len(self._running)

    async def stop(self, grace_s: float | None = None) -> None:
        """Read no more; wait up to the grace period; give back what did not finish."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        grace = self.tuning.shutdown_grace_ms / 1000 if grace_s is None else grace_s
        await end_tasks([t for t in [self._reader, *self.upkeep.until_stopping] if t is not None])
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=grace)
        for t in list(self._running.values()):
            t.cancel()
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)
        # Outcomes and give-backs get one more grace period; past it (Redis is
        # gone) they are left to the reclaim of another worker: at-least-once.
        with contextlib.suppress(RedisError, TimeoutError):
            async with asyncio.timeout(max(grace, 1.0)):
                await asyncio.shield(self._flush_acks())
                unfinished = [(d.lane, d.entry_id, d.job_id) for d in self.held.values()]
                if unfinished:
                    given = await asyncio.shield(self.queue.release(unfinished))
                    log.info("%s: gave back %d unfinished job(s)", self.queue.name, given)
        self.held.clear()
        await self._read_link.aclose()
        self.closed.set()
        self._ack_wanted.set()
        await end_tasks([t for t in [self._acker, *self.upkeep.tasks] if t is not None])
        await self._ack_link.aclose()

    # -- reading -----------------------------------------------------------
    async def _fetch_loop(self) -> None:
        lim_max = self.limiter.max if self.limiter else 0
        lim_ms = self.limiter.duration_ms if self.limiter else 0
        outage = Outage(f"{self.queue.name} fetch", log, self.stopping)
        # Each lane's last entry id when the last fetch found nothing: the next read blocks
        # for an entry after them and fetches at once (one round trip per wake-up).
        last_ids: tuple[bytes, ...] | None = None
        while not self.stopping.is_set():
            free = self.free_slots()
            if free > 0 and self._backlog:
                self._start_backlog()
                continue
            if free <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            try:
                async with self._claim_lock:
                    free = self.free_slots()  # upkeep may have filled slots meanwhile
                    if free <= 0:
                        continue
                    want = min(free, self._read_at_most)
                    if last_ids is None:
                        found = await self.queue.fetch(want, lim_max, lim_ms, self._read_link)
                    else:
                        found = await self.queue.wait_then_fetch(
                            self._read_link,
                            last_ids,
                            self.tuning.block_ms,
                            want,
                            limit_max=lim_max,
                            limit_ms=lim_ms,
                            blocked=self._blocked,
                        )
                    if found.status == FETCHED:
                        self.take(found.deliveries)
            except TRANSIENT as exc:
                last_ids = None
                await outage.wait(exc)
                continue
            outage.over()
            last_ids = found.last_ids if found.status == EMPTY else None
            if found.status == FETCHED:
                # let the jobs just dispatched start before the next fetch is written
                await asyncio.sleep(0)
            elif found.status == PAUSED:
                await nap(PAUSED_POLL_S, self.stopping)
            elif found.status == LIMITED:
                await nap(min(found.wait_ms, self.tuning.block_ms) / 1000, self.stopping)

    def _blocked(self, client_id: int | None) -> None:
        self._read_blocked = client_id

    @contextlib.asynccontextmanager
    async def claiming(self) -> AsyncIterator[None]:
        """Claim jobs (upkeep's takeovers) with the reader out of the way: one claimer at a time,
        each sizing its claim by the slots the other left. A read blocked waiting for jobs is
        ended at once (as if it timed out; its fetch still runs and is taken first)."""
        if self._read_blocked is not None:
            with contextlib.suppress(RedisError):
                await self.queue.client.client_unblock(self._read_blocked)
        async with self._claim_lock:
            yield

    def take(self, deliveries: list[Delivery]) -> None:
        """Run fetched jobs, as many as there are free slots; hold the rest until slots free.

        While a fetch was under way, upkeep may have taken over jobs of a dead worker into the
        slots it was sized for, or one that must run alone: the surplus waits here, held (its
        lease renewed, given back on stop), and starts in fetch order. Once the worker stops
        reading, nothing more starts: what a fetch brought then is given back with the rest.
        """
        for d in deliveries:
            if self._backlog or self.free_slots() <= 0 or self.stopping.is_set():
                self.held[d.entry_id] = d
                self._backlog.append(d)
            else:
                self.dispatch(d)

    def _start_backlog(self) -> None:
        while self._backlog and self.free_slots() > 0:
            d = self._backlog.popleft()
            if d.entry_id in self.held:  # (not lost to another worker meanwhile)
                self.dispatch(d)

    def free_slots(self) -> int:
        if self._solo is not None:
            return 0
        return self.concurrency - len(self._running)

    def is_idle(self) -> bool:
        return not self._running

    # -- running -----------------------------------------------------------
    def dispatch(self, d: Delivery) -> None:
        self.held[d.entry_id] = d
        if d.attempt_deliveries == self.tuning.max_deliveries > 1:
            self._solo = d.entry_id
        task = asyncio.get_running_loop().create_task(self._run(d))
        self._running[d.entry_id] = task

    async def _run(self, d: Delivery) -> None:
        try:
            await self._run_job(d)
        finally:
            self._running.pop(d.entry_id, None)
            if self._solo == d.entry_id:
                self._solo = None
            self._slot_free.set()

    async def _run_job(self, d: Delivery) -> None:
        try:
            job = envelope_pb2.Job.FromString(d.envelope)
        except DecodeError as exc:
            await self._dead_letter(
                d,
                None,
                DeadLetter(R.DEAD_LETTER_REASON_UNDECODABLE, f"its stored envelope does not decode: {exc}"),
            )
            return
        kind = job.payload.WhichOneof("kind") or ""
        m = metrics.for_job_type(kind or "unknown")
        # A probe runs no task unless it names one; any other job runs its task (by default
        # the one named after the queue).
        task_name = "" if kind == PROBE_FIELD and not job.task_name else job.task_name or self.queue.name
        refused = refusal(
            d,
            job=job,
            task_name=task_name,
            known_tasks=self.tasks,
            max_deliveries=self.tuning.max_deliveries,
        )
        if refused is not None:
            lost = (
                worker_lost_error(d, refused.detail)
                if refused.reason == R.DEAD_LETTER_REASON_DELIVERIES_EXCEEDED
                else None
            )
            await self._dead_letter(d, job, refused, error=lost, m=m)
            return
        job.attempt = d.attempts_made + 1
        spec = self.tasks.get(task_name) if task_name else None
        started = time.perf_counter()
        m.running += 1
        try:
            result = None if spec is None else await self._call(spec, job, kind, d)
        except asyncio.CancelledError:
            raise  # stopping, or the job was taken over: never acknowledged here
        except Exception as exc:
            await self._failed(d, job, exc, spec=spec, started=started, m=m)
            return
        finally:
            m.running -= 1
        elapsed = time.perf_counter() - started
        m.seconds.observe(elapsed)
        if self.results is not None:
            sink = self.results
            await self._outcome("result", lambda: sink.succeeded(d.job_id, result, elapsed))
        opts = job.options
        retention = (
            retention_of(opts.remove_on_complete, True, self.remove_on_complete)
            if opts.HasField("remove_on_complete")
            else self._default_completion
        )
        self._to_ack.append(
            (
                Finished(
                    d.lane, d.entry_id, d.job_id, retention, int(elapsed * 1000), _encode_result(result)
                ),
                m,
            )
        )
        self._acking.add(d.entry_id)
        self._ack_wanted.set()

    async def _call(self, spec: TaskSpec, job: envelope_pb2.Job, kind: str, d: Delivery) -> Any:
        payload = getattr(job.payload, kind)
        if spec.takes_context:
            ctx = JobContext(job, d.deliveries, self.consumer, lambda pct: self.queue.progress(d, pct))
            call = spec.fn(payload, ctx)
        else:
            call = spec.fn(payload)
        timeout_ms = duration_ms(job.options.timeout)
        if timeout_ms > 0:
            async with asyncio.timeout(timeout_ms / 1000):
                return await call
        return await call

    # -- outcomes ----------------------------------------------------------
    async def _failed(
        self,
        d: Delivery,
        job: envelope_pb2.Job,
        exc: Exception,
        *,
        spec: TaskSpec | None,
        started: float,
        m: metrics.JobMetrics,
    ) -> None:
        elapsed = time.perf_counter() - started
        m.seconds.observe(elapsed)
        attempts_made = d.attempts_made + 1
        error = attempt_error(exc, attempts_made, time.time() * 1000 - elapsed * 1000, self.consumer)
        verdict = after_failure(d, job.options, exc, spec.throws if spec is not None else ())
        if isinstance(verdict, Retry):
            ok = await self._outcome(
                "retry",
                lambda: self.queue.retry(
                    d,
                    attempts_made=attempts_made,
                    error=error.SerializeToString(),
                    wait_ms=verdict.wait_ms,
                    reason=f"{error.error_type}: {error.message}"[:500],
                    run_ms=int(elapsed * 1000),
                ),
            )
            self.held.pop(d.entry_id, None)
            (m.retried if ok else m.lost).inc()
            return
        await self._dead_letter(d, job, verdict, error=error, m=m)

    async def _dead_letter(
        self,
        d: Delivery,
        job: envelope_pb2.Job | None,
        verdict: DeadLetter,
        *,
        error: failure_pb2.AttemptError | None = None,
        m: metrics.JobMetrics | None = None,
    ) -> None:
        """Move a job to the dead-letter stream with its full history.

        An attempt that ran (or kept stopping its worker) counts: `error` is its
        error. A job refused before running (unknown task, past its deadline)
        made no attempt.
        """
        fields = await self._outcome("history", lambda: self.queue.job_fields(d.job_id))
        attempts_made = d.attempts_made + (1 if error is not None else 0)
        record = failed_job(
            queue=self.queue.name,
            job_id=d.job_id,
            job=job,
            raw_envelope=d.envelope,
            reason=verdict.reason,
            detail=verdict.detail,
            deliveries=d.deliveries,
            attempts_made=attempts_made,
            fields=fields,
            last_error=error,
        )
        opts = job.options if job is not None else envelope_pb2.JobOptions()
        retention = retention_of(opts.remove_on_fail, opts.HasField("remove_on_fail"), self.remove_on_fail)
        reason_name = failure_pb2.DeadLetterReason.Name(verdict.reason)
        ok = await self._outcome(
            "dead-letter",
            lambda: self.queue.dead_letter(
                d,
                attempts_made=attempts_made,
                error=error.SerializeToString() if error else b"",
                failed_job=record.SerializeToString(),
                reason=reason_name,
                detail=record.detail,
                retention=retention,
            ),
        )
        self.held.pop(d.entry_id, None)
        if m is not None:
            (m.failed if ok else m.lost).inc()
        if ok and self.results is not None:
            sink = self.results
            await self._outcome("result", lambda: sink.failed(d.job_id, record))
        log.warning(
            "%s: job %s dead-lettered (%s): %s", self.queue.name, d.job_id, reason_name, record.detail
        )

    async def _outcome(self, what: str, op: Any) -> Any:
        """Write a finished job's outcome, through any outage: it is never dropped."""
        return await ride_out(op, Outage(f"{self.queue.name} {what}", log, self.closed))

    # -- acknowledging -----------------------------------------------------
    async def _ack_loop(self) -> None:
        while not self.closed.is_set():
            await self._ack_wanted.wait()
            self._ack_wanted.clear()
            await self._flush_acks()

    async def _flush_acks(self) -> None:
        async with self._ack_lock:
            await self._flush_acks_now()

    async def _flush_acks_now(self) -> None:
        outage = Outage(f"{self.queue.name} ack", log, self.closed)
        while self._to_ack:
            batch = self._to_ack[:ACK_BATCH]
            del self._to_ack[:ACK_BATCH]
            try:
                done = await self.queue.complete([f for f, _ in batch], self._ack_link)
            except TRANSIENT as exc:
                self._to_ack[:0] = batch
                await outage.wait(exc)
                continue
            outage.over()
            outcomes: dict[tuple[metrics.JobMetrics, bool], int] = {}
            for (f, m), ok in zip(batch, done, strict=True):
                self.held.pop(f.entry_id, None)
                self._acking.discard(f.entry_id)
                outcomes[m, ok] = outcomes.get((m, ok), 0) + 1
            for (m, ok), n in outcomes.items():  # one counter update per job type and batch
                (m.success if ok else m.lost).inc(n)

    def lost(self, entry_id: bytes) -> None:
        """Another worker took this job over: stop running it, never acknowledge it."""
        if entry_id in self._acking:
            return
        d = self.held.pop(entry_id, None)
        task = self._running.get(entry_id)
        if task is not None:
            task.cancel()
        if d is not None:
            log.warning("%s: lost job %s to another worker", self.queue.name, d.job_id)


def _encode_result(result: object) -> bytes:
    """A handler's returned message as Any bytes (kept only with the job record)."""
    if isinstance(result, ProtoMessage):
        packed = AnyMsg()
        packed.Pack(result)
        return packed.SerializeToString()
    return b""
