"""The receive path of one queue in one worker process.

Replaces taskiq's receiver and taskiq-redis's stream listener, which lose or
hoard jobs (see DESIGN.md). A `QueueConsumer`:

- reads only as many jobs as it has free slots (fetch.lua, highest lane first,
  within the queue's shared rate limit), and blocks on XREAD when none wait;
- renews the lease of every job it holds, so a long job is never taken from a
  live worker, and stops any job another worker took over;
- takes over jobs of dead workers on a timer (reclaim.lua), whether or not new
  jobs arrive, and dead-letters a job delivered too often without finishing;
- moves due delayed jobs to their lanes (promote.lua);
- acknowledges finished jobs in batches (complete.lua), only jobs it holds;
- on stop, reads no more, lets running jobs finish within a grace period and
  gives every unfinished job back to its lane at once, never acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from google.protobuf.any_pb2 import Any as AnyMsg
from google.protobuf.message import DecodeError
from google.protobuf.message import Message as ProtoMessage
from redis.exceptions import RedisError

from jobmesh.jobs.v1 import envelope_pb2, failure_pb2
from queue_system import metrics
from queue_system.catalog import PROBE_FIELD, RateLimit
from queue_system.context import JobContext
from queue_system.errors import UnrecoverableError
from queue_system.failure import attempt_error, failed_job
from queue_system.options import attempts_of, backoff_ms, duration_ms, retention_of
from queue_system.queue import EMPTY, FETCHED, LIMITED, PAUSED, Delivery, Finished, RedisQueue
from queue_system.settings import QueueTuning, Retention
from queue_system.tasks import TaskSpec

log = logging.getLogger(__name__)

ACK_BATCH: Final = 500
PROMOTE_IDLE_S: Final = 0.05  # delayed jobs start at most ~50 ms late
PAUSED_POLL_S: Final = 0.1
ERROR_BACKOFF_S: Final = (0.05, 2.0)

R = failure_pb2  # DeadLetterReason values


class QueueConsumer:
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
    ) -> None:
        self.queue = queue
        self.tasks = dict(tasks)
        self.concurrency = concurrency
        self.limiter = limiter
        self.tuning = tuning
        self.remove_on_complete = remove_on_complete
        self.remove_on_fail = remove_on_fail
        self._default_completion = retention_of(envelope_pb2.Retention(), False, remove_on_complete)
        self.consumer = queue.consumer
        # Jobs this consumer holds (entry id -> delivery), until acknowledged,
        # retried, dead-lettered, given back or lost.
        self.held: dict[bytes, Delivery] = {}
        self._running: dict[bytes, asyncio.Task[None]] = {}
        self._lost: set[bytes] = set()
        self._to_ack: list[tuple[Finished, metrics.JobMetrics]] = []
        # Entry ids whose acknowledgement is queued or under way: the ack's own
        # holder check decides their fate, not a lease renewal racing with it.
        self._acking: set[bytes] = set()
        self._ack_wanted = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._reader: asyncio.Task[None] | None = None
        self._stopping = False
        self._stop_requested = asyncio.Event()
        # Set at the very end of stop(): renewals and acks run through the grace period.
        self._closed = asyncio.Event()
        # Read at most half the slots at a time: Redis prepares the next batch
        # while this process runs the current one, instead of the two taking
        # turns (measured: drain ~17k -> ~25k jobs/s at concurrency 100).
        self._read_at_most = max(1, concurrency // 2)
        # A job on its last allowed delivery runs alone (see reclaim.lua).
        self._solo: bytes | None = None

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._reader = loop.create_task(self._fetch_loop(), name=f"fetch:{self.queue.name}")
        self._loops = [
            loop.create_task(self._renew_loop(), name=f"renew:{self.queue.name}"),
            loop.create_task(self._reclaim_loop(), name=f"reclaim:{self.queue.name}"),
            loop.create_task(self._promote_loop(), name=f"promote:{self.queue.name}"),
            loop.create_task(self._ack_loop(), name=f"ack:{self.queue.name}"),
            loop.create_task(self._janitor_loop(), name=f"janitor:{self.queue.name}"),
        ]

    @property
    def running(self) -> int:
        return len(self._running)

    async def stop(self, grace_s: float | None = None) -> None:
        """Read no more; wait up to the grace period; give back what did not finish."""
        if self._stopping:
            return
        self._stopping = True
        self._stop_requested.set()
        grace = self.tuning.shutdown_grace_ms / 1000 if grace_s is None else grace_s
        background = [t for t in self._loops if not t.get_name().startswith(("renew:", "ack:"))]
        await _end([t for t in [self._reader, *background] if t is not None])
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
                await asyncio.shield(self._flush_acks_until_done())
                unfinished = [(d.lane, d.sid, d.job_id) for d in self.held.values()]
                if unfinished:
                    given = await asyncio.shield(self.queue.release(unfinished))
                    log.info("%s: gave back %d unfinished job(s)", self.queue.name, given)
        self.held.clear()
        self._closed.set()
        self._ack_wanted.set()
        await _end(self._loops)

    # -- reading -----------------------------------------------------------
    async def _fetch_loop(self) -> None:
        lim_max = self.limiter.max if self.limiter else 0
        lim_ms = self.limiter.duration_ms if self.limiter else 0
        failures = 0
        while not self._stopping:
            free = self._free_slots()
            if free <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            try:
                found = await self.queue.fetch(min(free, self._read_at_most), lim_max, lim_ms)
                if found.status == EMPTY:
                    await self._wait_for_jobs(found.last_ids)
                failures = 0
            except RedisError as exc:
                failures += 1
                await self._backoff("fetch", exc, failures)
                continue
            if found.status == FETCHED:
                for d in found.deliveries:
                    self._dispatch(d)
            elif found.status == PAUSED:
                await self._nap(PAUSED_POLL_S)
            elif found.status == LIMITED:
                await self._nap(min(found.wait_ms, self.tuning.block_ms) / 1000)

    async def _wait_for_jobs(self, last_ids: tuple[bytes, ...]) -> None:
        """Block until an entry newer than each lane's last one arrives (or a timeout)."""
        streams = dict(zip(self.queue.keys.lanes, last_ids, strict=True))
        await self.queue.client.xread(streams, count=1, block=self.tuning.block_ms)  # type: ignore[arg-type]

    async def _nap(self, seconds: float, until: asyncio.Event | None = None) -> None:
        """Sleep, but wake at once when the consumer starts stopping (or `until` is set)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await (until or self._stop_requested).wait()

    async def _backoff(self, what: str, exc: BaseException, failures: int) -> None:
        delay = min(ERROR_BACKOFF_S[1], ERROR_BACKOFF_S[0] * 2 ** min(failures, 6))
        if failures in (1, 10) or failures % 100 == 0:
            log.warning("%s %s: %s (retrying in %.2fs)", self.queue.name, what, exc, delay)
        await self._nap(delay)

    def _free_slots(self) -> int:
        if self._solo is not None:
            return 0
        return self.concurrency - len(self._running)

    # -- running -----------------------------------------------------------
    def _dispatch(self, d: Delivery) -> None:
        self.held[d.sid] = d
        if d.deliveries == self.tuning.max_deliveries > 1:
            self._solo = d.sid
        task = asyncio.get_running_loop().create_task(self._run(d))
        self._running[d.sid] = task

    async def _run(self, d: Delivery) -> None:
        try:
            await self._run_job(d)
        finally:
            self._running.pop(d.sid, None)
            if self._solo == d.sid:
                self._solo = None
            self._slot_free.set()

    def _refusal(self, d: Delivery, job: envelope_pb2.Job, kind: str) -> tuple[int, str] | None:
        """Why a delivered job must go to the dead-letter stream without running, if it must."""
        if d.deliveries > self.tuning.max_deliveries:
            return R.DEAD_LETTER_REASON_DELIVERIES_EXCEEDED, (
                f"delivered {d.deliveries} times without finishing (limit {self.tuning.max_deliveries}): "
                "it keeps stopping its worker"
            )
        if kind != PROBE_FIELD and (job.task_name or self.queue.name) not in self.tasks:
            return R.DEAD_LETTER_REASON_UNKNOWN_TASK, (
                f"no task {job.task_name or self.queue.name!r} is registered on queue {self.queue.name}"
            )
        if job.HasField("deadline") and job.deadline.ToMilliseconds() < time.time() * 1000:
            return R.DEAD_LETTER_REASON_DEADLINE_EXCEEDED, "found past its deadline"
        return None

    async def _run_job(self, d: Delivery) -> None:
        try:
            job = envelope_pb2.Job.FromString(d.envelope)
        except DecodeError as exc:
            await self._dead_letter(
                d, None, R.DEAD_LETTER_REASON_UNDECODABLE, f"envelope does not decode: {exc}"
            )
            return
        kind = job.payload.WhichOneof("kind") or ""
        m = metrics.for_job_type(kind or "unknown")
        refused = self._refusal(d, job, kind)
        if refused is not None:
            await self._dead_letter(d, job, refused[0], refused[1], m=m)
            return
        job.attempt = d.attempts_made + 1
        spec = self.tasks.get(job.task_name or self.queue.name) if kind != PROBE_FIELD else None
        started = time.perf_counter()
        m.running += 1
        try:
            result = None if spec is None else await self._call(spec, job, kind, d)
        except asyncio.CancelledError:
            raise  # stopping, or the job was taken over: never acknowledged here
        except Exception as exc:
            elapsed = time.perf_counter() - started
            started_ms = time.time() * 1000 - elapsed * 1000
            await self._failed(d, job, exc, started_ms=started_ms, elapsed=elapsed, m=m)
            return
        finally:
            m.running -= 1
        elapsed = time.perf_counter() - started
        m.seconds.observe(elapsed)
        opts = job.options
        retention = (
            retention_of(opts.remove_on_complete, True, self.remove_on_complete)
            if opts.HasField("remove_on_complete")
            else self._default_completion
        )
        self._to_ack.append(
            (Finished(d.lane, d.sid, d.job_id, retention, int(elapsed * 1000), _encode_result(result)), m)
        )
        self._acking.add(d.sid)
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

    async def _failed(
        self,
        d: Delivery,
        job: envelope_pb2.Job,
        exc: Exception,
        *,
        started_ms: float,
        elapsed: float,
        m: metrics.JobMetrics,
    ) -> None:
        m.seconds.observe(elapsed)
        attempts_made = d.attempts_made + 1
        error = attempt_error(exc, attempts_made, started_ms, self.consumer)
        if isinstance(exc, UnrecoverableError):
            await self._dead_letter(
                d, job, R.DEAD_LETTER_REASON_UNRECOVERABLE, error.message, error=error, m=m
            )
            return
        if attempts_made < attempts_of(job.options):
            wait = backoff_ms(job.options.backoff, attempts_made)
            ok = await self._with_retries(
                "retry",
                lambda: self.queue.retry(
                    d,
                    attempts_made=attempts_made,
                    error=error.SerializeToString(),
                    backoff_ms=wait,
                    reason=f"{error.error_type}: {error.message}"[:500],
                    run_ms=int(elapsed * 1000),
                ),
            )
            self.held.pop(d.sid, None)
            (m.retried if ok else m.lost).inc()
            return
        await self._dead_letter(
            d,
            job,
            R.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED,
            f"failed {attempts_made} of {attempts_made} attempts; last: {error.error_type}: {error.message}",
            error=error,
            m=m,
        )

    async def _dead_letter(
        self,
        d: Delivery,
        job: envelope_pb2.Job | None,
        reason: int,
        detail: str,
        *,
        error: failure_pb2.AttemptError | None = None,
        m: metrics.JobMetrics | None = None,
    ) -> None:
        """Move a job to the dead-letter stream with its full history."""
        fields = await self._with_retries("history", lambda: self.queue.job_fields(d.job_id))
        attempts_made = d.attempts_made + (1 if error is not None else 0)
        record = failed_job(
            queue=self.queue.name,
            job_id=d.job_id,
            job=job,
            raw_envelope=d.envelope,
            reason=reason,
            detail=detail,
            deliveries=d.deliveries,
            fields=fields,
            last_error=error,
        )
        opts = job.options if job is not None else envelope_pb2.JobOptions()
        retention = retention_of(opts.remove_on_fail, opts.HasField("remove_on_fail"), self.remove_on_fail)
        ok = await self._with_retries(
            "dead-letter",
            lambda: self.queue.dead_letter(
                d,
                attempts_made=attempts_made,
                error=error.SerializeToString() if error else b"",
                failed_job=record.SerializeToString(),
                reason=failure_pb2.DeadLetterReason.Name(reason),
                detail=detail,
                retention=retention,
            ),
        )
        self.held.pop(d.sid, None)
        if m is not None:
            (m.failed if ok else m.lost).inc()
        log.warning(
            "%s: job %s dead-lettered (%s): %s",
            self.queue.name,
            d.job_id,
            failure_pb2.DeadLetterReason.Name(reason),
            detail,
        )

    async def _with_retries(self, what: str, op: Any) -> Any:
        """Run a Redis operation until it succeeds: a finished job's outcome is never dropped."""
        failures = 0
        while True:
            try:
                return await op()
            except RedisError as exc:
                failures += 1
                await self._backoff(what, exc, failures)

    # -- acknowledging -----------------------------------------------------
    async def _ack_loop(self) -> None:
        while not self._closed.is_set():
            await self._ack_wanted.wait()
            self._ack_wanted.clear()
            await self._flush_acks_until_done()

    async def _flush_acks_until_done(self) -> None:
        failures = 0
        while self._to_ack:
            batch = self._to_ack[:ACK_BATCH]
            del self._to_ack[:ACK_BATCH]
            try:
                done = await self.queue.complete([f for f, _ in batch])
            except RedisError as exc:
                self._to_ack[:0] = batch
                failures += 1
                await self._backoff("ack", exc, failures)
                continue
            outcomes: dict[tuple[metrics.JobMetrics, bool], int] = {}
            for (f, m), ok in zip(batch, done, strict=True):
                self.held.pop(f.sid, None)
                self._acking.discard(f.sid)
                outcomes[m, ok] = outcomes.get((m, ok), 0) + 1
            for (m, ok), n in outcomes.items():  # one counter update per job type and batch
                (m.success if ok else m.lost).inc(n)

    # -- timers --------------------------------------------------------------
    async def _renew_loop(self) -> None:
        """Renew leases (and this worker's heartbeat, at once on start) every renew period."""
        period = self.tuning.renew_ms / 1000
        while not self._closed.is_set():
            held = [(d.lane, d.sid) for d in self.held.values()]
            try:
                lost = await self.queue.renew(held)
            except RedisError as exc:
                log.warning("%s renew: %s", self.queue.name, exc)
                lost = set()
            for sid in lost:
                self._on_lost(sid)
            await self._nap(period, self._closed)

    def _on_lost(self, sid: bytes) -> None:
        """Another worker took this job over: stop running it, never acknowledge it."""
        if sid in self._acking:
            return
        d = self.held.pop(sid, None)
        task = self._running.get(sid)
        if task is not None:
            task.cancel()
        if d is not None:
            log.warning("%s: lost job %s to another worker", self.queue.name, d.job_id)

    async def _reclaim_loop(self) -> None:
        period = self.tuning.reclaim_check_ms / 1000
        failures = 0
        while not self._stopping:
            await self._nap(period)
            free = self._free_slots()
            if free <= 0 or self._stopping:
                continue
            try:
                taken = await self.queue.reclaim(
                    self.tuning.reclaim_ms, free, self.tuning.max_deliveries, idle=not self._running
                )
                failures = 0
            except RedisError as exc:
                failures += 1
                await self._backoff("reclaim", exc, failures)
                continue
            for d in taken:
                if d.sid not in self.held:  # a job this process already runs stays as it is
                    log.info("%s: took over job %s (delivery %d)", self.queue.name, d.job_id, d.deliveries)
                    self._dispatch(d)

    async def _promote_loop(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                moved, wait_ms = await self.queue.promote()
                failures = 0
            except RedisError as exc:
                failures += 1
                await self._backoff("promote", exc, failures)
                continue
            if moved >= 1000:
                continue
            await self._nap(PROMOTE_IDLE_S if wait_ms < 0 else min(PROMOTE_IDLE_S, wait_ms / 1000))

    async def _janitor_loop(self) -> None:
        silent_ms = max(60_000, 10 * self.tuning.reclaim_ms)
        while not self._stopping:
            await self._nap(silent_ms / 2000)
            with contextlib.suppress(RedisError):
                await self.queue.janitor(silent_ms)


async def _end(tasks: Sequence[asyncio.Task[None]], patience_s: float = 5.0) -> None:
    """Cancel loop tasks and wait for them, boundedly: a loop whose cancel a
    library swallowed still ends on the stop flag, and stop() never hangs."""
    for t in tasks:
        t.cancel()
    if tasks:
        _, stuck = await asyncio.wait(tasks, timeout=patience_s)
        for t in stuck:
            log.error("task %s did not stop within %.0fs", t.get_name(), patience_s)


def _encode_result(result: object) -> bytes:
    """A handler's returned message as Any bytes (kept only with the job record)."""
    if isinstance(result, ProtoMessage):
        packed = AnyMsg()
        packed.Pack(result)
        return packed.SerializeToString()
    return b""
