"""jobmesh's phases, in the structure of BullMQ's bench, plus mixed, probe and public-path phases.

Every drain is timed to the last *finish*: the N-th job acknowledged in Redis,
seen on this process's `jobs_processed_total{status="success"}` counter, which
a worker increments once Redis has answered the ack (polled every 1-2 ms, so
the window is late by at most that). BullMQ's bench times the same window as
`drain_to_last_completed_jobs_s`: its first processor start to its N-th
`completed` event, which BullMQ emits once moveToCompleted has marked the job
completed in Redis. The report sets each jobmesh drain beside that figure.
The first-start-to-last-start window (BullMQ's `drain_jobs_s`) is reported too,
labelled "start window", and compared only with BullMQ's start window.

Order (one process, one queue, one QueueManager, then one JobBroker):
1. bulk enqueue: N task jobs by add_jobs in batches of 1,000, no worker running.
2. drain: one worker (concurrency C, acks on, rate limit off, remove-on-complete)
   runs them; jobs/s = N / (first handler start -> last acknowledgement).
   Start window: N / (first handler start -> last handler start).
3. latency: L single adds 5 ms apart with the worker running; latency =
   handler start - the job's timestamp (stamped just before the add).
   Peak RSS is sampled every 50 ms from worker start to here, as BullMQ's is.
   The phase ends once every latency job is acknowledged (not timed).
4. mixed: the same worker keeps running while one producer coroutine in this
   process adds N task jobs in batches of 1,000, back to back; jobs/s =
   N / (first add call -> last acknowledgement). Nothing waits when it starts.
5. probe: the worker stops; N probe jobs are bulk-enqueued (timed, no worker);
   a new worker runs them with no handler; jobs/s = N / (worker start ->
   last acknowledgement), a stricter window (it starts before the first job).
6. public path: what a taskiq user writes. A `JobBroker` (keep_results=True,
   its default: each job's result goes to taskiq-redis's result backend under
   `<prefix>:result:<job id>`) with the no-op task declared by
   `@broker.task(queue="categorization")`; N task jobs sent with
   `await task.kiq(CategorizationJob(...))`, 1,000 kiq() calls at a time under
   one asyncio.gather (each is one add of one job), no worker running; then
   `JobReceiver(broker).start()` drains them, timed as phase 2 (first handler
   start -> last acknowledgement, which comes after the job's result is
   written). The receiver is stopped with stop(grace_s=5), the broker with
   shutdown(); the bench checks that N results were stored.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.keyspace import count_keys
from bench.measure import CpuMeter, RssSampler, Window, percentile, processed, wait_processed
from bench.options import BATCH, BenchOptions
from bench.payloads import QUEUE, probe_job, task_job, task_message
from jobmesh.jobs.v1 import financial_jobs_pb2
from queue_system.broker import JobBroker
from queue_system.catalog import PROBE_FIELD
from queue_system.envelope import JobRequest
from queue_system.keys import result_prefix
from queue_system.manager import QueueManager
from queue_system.producer import Producer
from queue_system.receiver import JobReceiver
from queue_system.settings import Settings, load, queue_env_stem
from queue_system.tasks import TaskSpec, task_spec
from queue_system.validation.jobs import checked_job
from queue_system.worker import Worker

LATENCY_GAP_S = 0.005  # BullMQ's bench: await sleep(5) between single adds
TASK_TYPE = "categorization"  # job_type label of the task job in jobs_processed_total


def bench_env(opts: BenchOptions) -> dict[str, str]:
    """The environment every jobmesh process of the bench is configured with."""
    stem = queue_env_stem(QUEUE)
    return {
        "REDIS_URL": opts.redis_url,
        "QUEUE_PREFIX": opts.prefix,
        f"{stem}_RATE_LIMIT": "none",
        f"{stem}_CONCURRENCY": str(opts.concurrency),
        "QUEUE_DEFAULT_REMOVE_ON_COMPLETE": "true",
    }


def bench_settings(opts: BenchOptions) -> Settings:
    return load(bench_env(opts))


def phase_timeout_s(n: int) -> float:
    """Generous: a phase this slow is broken, not slow (~200 jobs/s)."""
    return max(60.0, n / 200)


@dataclass(slots=True)
class StartRecorder:
    """What the no-op task sees, as BullMQ's bench's processor records it: handler *starts*
    (the first, the N-th, and latencies). Finishes are read from the ack counter."""

    expected: int = 0
    done: int = 0
    first: float | None = None
    last: float | None = None
    latency_mode: bool = False
    latencies_ms: list[float] = field(default_factory=list)
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def arm(self, expected: int) -> None:
        self.expected, self.done, self.first, self.last = expected, 0, None, None
        self.finished.clear()

    def on_start(self, job: financial_jobs_pb2.CategorizationJob) -> None:
        t = time.perf_counter()
        if self.latency_mode:
            self.latencies_ms.append((time.time_ns() - job.timestamp.ToNanoseconds()) / 1e6)
            return
        if self.first is None:
            self.first = t
        self.done += 1
        if self.done == self.expected:
            self.last = time.perf_counter()
            self.finished.set()

    def window_s(self, since: float | None = None) -> float:
        start = self.first if since is None else since
        if start is None or self.last is None:
            raise RuntimeError("phase did not finish")
        return self.last - start

    async def wait(self, timeout_s: float) -> None:
        try:
            async with asyncio.timeout(timeout_s):
                await self.finished.wait()
        except TimeoutError:
            raise TimeoutError(
                f"{self.done} of {self.expected} jobs started within {timeout_s:.0f}s"
            ) from None


def noop_task(recorder: StartRecorder) -> TaskSpec:
    """The bench's no-op task on the categorization queue (BullMQ's: an async no-op processor)."""

    async def categorize(job: financial_jobs_pb2.CategorizationJob) -> None:
        recorder.on_start(job)

    return task_spec(QUEUE, QUEUE, categorize)


@dataclass(slots=True)
class Results:
    figures: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def envelope_bytes(make: Callable[[int], JobRequest]) -> int:
    """Size of one encoded job envelope (what each job stores in Redis besides its bookkeeping)."""
    return len(Producer({}, ride_out_ms=0).encode(checked_job(make(0)))[0][1].envelope)


class JobmeshBench:
    """Runs the phases on one manager; figures accumulate in `results`."""

    def __init__(self, opts: BenchOptions, manager: QueueManager) -> None:
        self.opts = opts
        self.manager = manager
        self.recorder = StartRecorder()
        self.tasks = {QUEUE: noop_task(self.recorder)}
        self.rss = RssSampler()
        self.results = Results()
        self.worker: Worker | None = None

    def _log(self, what: str) -> None:
        print(f"bench: {what}", flush=True, file=sys.stderr)

    def _cpu(self, phase: str, window: Window) -> None:
        self.results.cpu[phase] = window.shares()

    async def enqueue(self, make: Callable[[int], JobRequest], n: int) -> tuple[float, Window]:
        """add_jobs in batches of 1,000, each awaited (as addBulk is); the seconds it took."""
        meter = CpuMeter(self.manager.client)
        await meter.start()
        added = 0
        t0 = time.perf_counter()
        for start in range(0, n, BATCH):
            out = await self.manager.add_jobs([make(i) for i in range(start, min(n, start + BATCH))])
            added += sum(a.added for a in out)
        elapsed = time.perf_counter() - t0
        window = await meter.stop()
        if added != n:
            raise RuntimeError(f"{added} of {n} jobs added")
        return elapsed, window

    async def start_worker(self) -> Worker:
        return await self.manager.create_worker(QUEUE, self.tasks, concurrency=self.opts.concurrency)

    async def stop_worker(self) -> None:
        if self.worker is not None:
            await self.worker.stop(grace_s=5)
            self.worker = None

    async def _check_empty(self, phase: str) -> None:
        stats = await self.manager.get_queue_stats(QUEUE)
        c = stats.counts
        left = c.waiting + c.active + c.prioritized + c.delayed + c.failed
        if left or stats.dead_lettered:
            self.results.notes.append(
                f"after {phase}: {left} job(s) not completed, {stats.dead_lettered} dead-lettered"
            )

    # -- the phases ------------------------------------------------------------
    async def bulk_enqueue(self) -> None:
        n = self.opts.n
        self._log(f"bulk enqueue: {n} task jobs, batches of {BATCH}, no worker")
        elapsed, window = await self.enqueue(task_job, n)
        self.results.figures["bulk_enqueue_jobs_s"] = n / elapsed
        self._cpu("bulk_enqueue", window)

    async def drain(self) -> None:
        n, r = self.opts.n, self.recorder
        self._log(f"drain: one worker, concurrency {self.opts.concurrency}")
        acked_before = processed(TASK_TYPE)
        r.arm(n)
        meter = CpuMeter(self.manager.client)
        await meter.start()
        self.rss.start()
        self.worker = await self.start_worker()
        await r.wait(phase_timeout_s(n))
        acked_at = await wait_processed(TASK_TYPE, acked_before + n, phase_timeout_s(n))
        window = await meter.stop()
        first = r.first if r.first is not None else 0.0
        # the headline: first start -> last finish (the N-th ack), BullMQ's "to last completed"
        self.results.figures["drain_jobs_s"] = n / (acked_at - first)
        # first start -> last start, BullMQ's drain_jobs_s window
        self.results.figures["drain_start_window_jobs_s"] = n / r.window_s()
        self._cpu("drain", window)
        await self._check_empty("drain")

    async def latency(self) -> None:
        count, r = self.opts.latency_jobs, self.recorder
        self._log(f"latency: {count} single adds {LATENCY_GAP_S * 1000:.0f} ms apart, worker running")
        r.latencies_ms.clear()
        r.latency_mode = True
        acked_before = processed(TASK_TYPE)
        meter = CpuMeter(self.manager.client)
        await meter.start()
        for i in range(count):
            await self.manager.add_jobs([task_job(i)])
            await asyncio.sleep(LATENCY_GAP_S)
        deadline = time.perf_counter() + phase_timeout_s(count)
        while len(r.latencies_ms) < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{len(r.latencies_ms)} of {count} latency jobs started")
            await asyncio.sleep(0.01)
        window = await meter.stop()
        # not timed: every latency job acknowledged, so the next phase's ack count is its own
        await wait_processed(TASK_TYPE, acked_before + count, phase_timeout_s(count))
        r.latency_mode = False
        lat = sorted(r.latencies_ms)
        self.results.figures["latency_p50_ms"] = percentile(lat, 0.5)
        self.results.figures["latency_p99_ms"] = percentile(lat, 0.99)
        self.results.figures["worker_rss_mb"] = self.rss.peak_mb
        self._cpu("latency", window)

    async def mixed(self) -> None:
        n, r = self.opts.n, self.recorder
        self._log(f"mixed: {n} task jobs added in batches of {BATCH} while the worker drains")
        acked_before = processed(TASK_TYPE)
        r.arm(n)
        meter = CpuMeter(self.manager.client)
        await meter.start()
        t0 = time.perf_counter()
        for start in range(0, n, BATCH):
            await self.manager.add_jobs([task_job(i) for i in range(start, min(n, start + BATCH))])
        produced = time.perf_counter() - t0
        await r.wait(phase_timeout_s(n))
        acked_at = await wait_processed(TASK_TYPE, acked_before + n, phase_timeout_s(n))
        window = await meter.stop()
        self.results.figures["mixed_jobs_s"] = n / (acked_at - t0)
        self.results.figures["mixed_producer_jobs_s"] = n / produced
        self._cpu("mixed", window)

    async def probe(self) -> None:
        n = self.opts.n
        await self.stop_worker()
        await self._check_empty("mixed")
        self._log(f"probe: {n} probe jobs (no handler): bulk enqueue, then drain by a new worker")
        elapsed, window = await self.enqueue(probe_job, n)
        self.results.figures["probe_bulk_enqueue_jobs_s"] = n / elapsed
        self._cpu("probe_bulk_enqueue", window)
        acked_before = processed(PROBE_FIELD)
        meter = CpuMeter(self.manager.client)
        await meter.start()
        t0 = time.perf_counter()
        self.worker = await self.start_worker()
        # the ack counter is polled every 2 ms: cheap, and a 0.1-0.5% error on the window
        acked_at = await wait_processed(PROBE_FIELD, acked_before + n, phase_timeout_s(n), every_s=0.002)
        window = await meter.stop()
        self.results.figures["probe_drain_jobs_s"] = n / (acked_at - t0)
        self._cpu("probe_drain", window)
        await self.stop_worker()
        await self._check_empty("probe drain")

    async def public_path(self) -> None:
        """Phase 6: a JobBroker task sent with kiq and run by JobReceiver, results kept."""
        n, r = self.opts.n, self.recorder
        await self.stop_worker()
        settings = self.manager.settings
        broker = JobBroker(settings, service="bench-public", queues=[QUEUE], keep_results=True)

        @broker.task(queue=QUEUE)
        async def categorize(job: financial_jobs_pb2.CategorizationJob) -> None:
            r.on_start(job)

        receiver: JobReceiver | None = None
        await broker.startup()
        try:
            self._log(f"public path: {n} task jobs sent with kiq(), {BATCH} at a time (asyncio.gather)")
            meter = CpuMeter(self.manager.client)
            await meter.start()
            t0 = time.perf_counter()
            for start in range(0, n, BATCH):
                await asyncio.gather(
                    *(categorize.kiq(task_message(i)) for i in range(start, min(n, start + BATCH)))
                )
            elapsed = time.perf_counter() - t0
            window = await meter.stop()
            waiting = (await self.manager.get_queue_stats(QUEUE)).counts.waiting
            if waiting != n:
                self.results.notes.append(f"public path: {waiting} of {n} kiq'd jobs waiting")
            self.results.figures["public_kiq_enqueue_jobs_s"] = n / elapsed
            self._cpu("public_kiq_enqueue", window)

            self._log("public path: JobReceiver(broker).start() drains them, results kept")
            acked_before = processed(TASK_TYPE)
            r.arm(n)
            meter = CpuMeter(self.manager.client)
            await meter.start()
            receiver = JobReceiver(broker, concurrency=self.opts.concurrency)
            await receiver.start()
            await r.wait(phase_timeout_s(n))
            acked_at = await wait_processed(TASK_TYPE, acked_before + n, phase_timeout_s(n))
            window = await meter.stop()
            first = r.first if r.first is not None else 0.0
            self.results.figures["public_drain_jobs_s"] = n / (acked_at - first)
            self._cpu("public_drain", window)
            stored = await count_keys(self.manager.client, result_prefix(settings.queue_prefix))
            if stored != n:
                self.results.notes.append(f"public path: {stored} of {n} results stored")
        finally:
            if receiver is not None:
                await receiver.stop(grace_s=5)
            await broker.shutdown()
        await self._check_empty("public path drain")

    async def run(self) -> Results:
        """Every phase in order; the worker of phases 2-4 is one worker, as in BullMQ's bench."""
        try:
            await self.bulk_enqueue()
            await self.drain()
            await self.latency()
            await self.mixed()
            await self.probe()
            await self.public_path()
        finally:
            await self.stop_worker()
            self.results.figures["rss_peak_mb"] = self.rss.peak_mb
            await self.rss.stop()
        return self.results
