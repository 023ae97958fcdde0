"""Cost as work grows: a queue with 10k, 100k, 1M jobs waiting, jobmesh beside BullMQ (issue 11).

Per backlog size, jobmesh first, then BullMQ (`bench/bullmq_backlog.js`, run with
node on the same Redis, BullMQ from the baseline's install), each on its own keys:

1. fill: `size` task jobs (the headline `CategorizationJob`, 120-character pad;
   BullMQ: `{i, t, pad}`) bulk-added 1,000 per call, no worker running. Memory
   per waiting job = MEMORY USAGE (SAMPLES 0) of every key of the queue, summed,
   over `size`: everything the queue keeps for it (job hash and its keyspace
   entry, lane/list entry, its share of the capped event stream and of the add
   receipts). The Redis is shared, so `used_memory` after - before (reported
   too, `used_memory_per_job`) moves with other people's keys; the key sum does
   not. One job hash's size and encoding are reported with the Redis setting
   that decides it (hash-max-listpack-value: read, never changed). A warm-up
   fill of 1,000 jobs, deleted, comes first, so script caches are not charged
   to the first size.
2. drain: one worker (the bench's concurrency, no-op task, remove-on-complete)
   starts with the whole backlog waiting and runs the first `drain` jobs
   (default 10,000, the smallest size: every size is timed over the same
   number of jobs, or all of a smaller backlog); drain jobs/s = those jobs
   over first handler start .. last handler start (the start window: on
   both sides the same, and it ends before the worker stops).
3. pick latency. In a FIFO queue a job added behind N waiting jobs waits for
   all of them: its enqueue->start time measures the backlog, not the queue.
   What a backlog can cost a job is the *pick*: how soon a job that is next in
   line starts while the worker is busy with the backlog. So while the drain
   runs, probe jobs are added one at a time, `PROBE_GAP_S` apart (as BullMQ's
   bench's latency jobs), each put at the head of the line: jobmesh
   priority CRITICAL (its own lane, read before the normal lane), BullMQ
   `lifo: true` (the head of its wait list; a BullMQ job *with* a priority
   starts after the un-prioritised backlog). Probes are sent only while backlog
   jobs still wait (started + concurrency < size), so each one jumps a real
   backlog (the worker keeps draining past the timed jobs until they are
   sent); enqueue->start p50/p99 is over those, and the count is reported
   (a 10k backlog drains before 200 probes 5 ms apart are all sent).
   Flat = the same pick latency and drain rate at 1M as at 10k.
   jobmesh's rows also carry CPU per job of the fill and of the timed drain
   (this process, and redis-server, which others share): wall rates on a busy
   2-core machine move with the load, CPU per job shows whether the work grows.
4. the worker stops and every key of the size is deleted.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bench.jobmesh_phases import bench_settings, phase_timeout_s
from bench.keyspace import delete_keys, pattern
from bench.measure import CpuMeter, percentile
from bench.options import BATCH, BenchOptions
from bench.payloads import QUEUE, task_job, task_payload
from jobmesh.jobs.v1 import envelope_pb2, financial_jobs_pb2
from queue_system.catalog import CATEGORIZATION
from queue_system.envelope import JobRequest
from queue_system.manager import QueueManager
from queue_system.tasks import task_spec

PROBE_GAP_S = 0.005  # BullMQ's bench: 5 ms between single adds
PROBE_ID = "probe-"  # CategorizationJob.id of a probe: the handler tells them from backlog jobs
WARMUP_JOBS = 1000
BULLMQ_SCRIPT = Path(__file__).resolve().with_name("bullmq_backlog.js")
BULLMQ_DIR_DEFAULT = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jobmesh-bullmq-baseline"
)


def backlog_prefix(opts: BenchOptions) -> str:
    """jobmesh's keys of the phase: a QUEUE_PREFIX of their own, deleted after each size."""
    return f"{opts.prefix}-backlog"


def bullmq_prefix(opts: BenchOptions) -> str:
    return f"{opts.prefix}-bullmq-backlog"


def probe_job(i: int) -> JobRequest:
    """A task job at the head of the line: priority CRITICAL, read before the normal lane."""
    payload = task_payload(i)
    payload.categorization.id = f"{PROBE_ID}{i}"
    return JobRequest(QUEUE, payload, envelope_pb2.JobOptions(priority=envelope_pb2.JOB_PRIORITY_CRITICAL))


@dataclass(slots=True)
class DrainRecorder:
    """Handler starts of backlog jobs (first, the `expected`-th) and probe latencies."""

    expected: int
    started: int = 0
    first: float | None = None
    last: float | None = None
    probe_ms: list[float] = field(default_factory=list)
    probes_sent: int | None = None  # known once probing is over
    began: asyncio.Event = field(default_factory=asyncio.Event)  # the first backlog job started
    finished: asyncio.Event = field(default_factory=asyncio.Event)  # the `expected`-th started
    probes_in: asyncio.Event = field(default_factory=asyncio.Event)  # every probe sent started

    def probing_over(self, sent: int) -> None:
        self.probes_sent = sent
        if len(self.probe_ms) >= sent:
            self.probes_in.set()

    def on_start(self, job: financial_jobs_pb2.CategorizationJob) -> None:
        t = time.perf_counter()
        if job.id.startswith(PROBE_ID):
            self.probe_ms.append((time.time_ns() - job.timestamp.ToNanoseconds()) / 1e6)
            if self.probes_sent is not None and len(self.probe_ms) >= self.probes_sent:
                self.probes_in.set()
            return
        if self.first is None:
            self.first = t
            self.began.set()
        self.started += 1
        if self.started == self.expected:
            self.last = t
            self.finished.set()


async def used_memory(client: aioredis.Redis) -> int:
    return int((await client.info("memory"))["used_memory"])


async def keys_memory(client: aioredis.Redis, prefix: str) -> tuple[int, int]:
    """(keys, bytes) under `prefix`: MEMORY USAGE ... SAMPLES 0 of every key (its value, name and
    keyspace entry), summed. Unlike used_memory it holds on a Redis others use at the same time."""
    keys, total = 0, 0
    batch: list[bytes] = []

    async def flush() -> None:
        nonlocal keys, total
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
        total += sum(int(v or 0) for v in await pipe.execute())
        keys += len(batch)
        batch.clear()

    async for key in client.scan_iter(match=pattern(prefix), count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            await flush()
    if batch:
        await flush()
    return keys, total


async def fill(manager: QueueManager, size: int) -> tuple[float, str]:
    """`size` task jobs, 1,000 per add_jobs; the seconds it took, and the last job's id."""
    t0 = time.perf_counter()
    last = ""
    for start in range(0, size, BATCH):
        out = await manager.add_jobs([task_job(i) for i in range(start, min(size, start + BATCH))])
        if sum(a.added for a in out) != min(BATCH, size - start):
            raise RuntimeError("a backlog batch was not added whole")
        last = out[-1].job_id
    return time.perf_counter() - t0, last


async def job_hash(manager: QueueManager, job_id: str) -> dict[str, Any]:
    """How Redis stores one waiting job's hash, and the setting that decides it (read, never set:
    the Redis is shared). A hash holding a value longer than hash-max-listpack-value (the envelope)
    is a hashtable: a dict entry and two allocations per field instead of one packed blob."""
    client = manager.client
    key = manager.queue(QUEUE).keys.job(job_id)
    setting = await client.config_get("hash-max-listpack-value")
    encoding = await client.object("encoding", key)
    return {
        "job_hash_bytes": int(await client.memory_usage(key, samples=0) or 0),
        "job_hash_encoding": encoding.decode() if isinstance(encoding, bytes) else str(encoding),
        "hash_max_listpack_value": int(setting.get("hash-max-listpack-value") or 0),
    }


async def _probe(manager: QueueManager, rec: DrainRecorder, size: int, count: int, concurrency: int) -> int:
    """Probes from the first start on, while backlog jobs still wait; how many were sent."""
    await rec.began.wait()
    sent = 0
    while sent < count and rec.started + concurrency < size:
        await manager.add_jobs([probe_job(sent)])
        sent += 1
        await asyncio.sleep(PROBE_GAP_S)
    return sent


async def jobmesh_size(opts: BenchOptions, manager: QueueManager, size: int) -> dict[str, Any]:
    """One backlog size on jobmesh: the figures of the module docstring; its keys deleted."""
    client, prefix = manager.client, manager.settings.queue_prefix
    before = await used_memory(client)
    meter = CpuMeter(client)
    await meter.start()
    fill_s, last_id = await fill(manager, size)
    fill_cpu = await meter.stop()
    after = await used_memory(client)
    keys, key_bytes = await keys_memory(client, prefix)
    stored = await job_hash(manager, last_id)
    drain = min(opts.backlog_drain, size)
    rec = DrainRecorder(expected=drain)

    async def categorize(job: financial_jobs_pb2.CategorizationJob) -> None:
        rec.on_start(job)

    await meter.start()
    worker = await manager.create_worker(
        QUEUE, {QUEUE: task_spec(QUEUE, QUEUE, categorize)}, concurrency=opts.concurrency
    )
    probing = asyncio.create_task(_probe(manager, rec, size, opts.latency_jobs, opts.concurrency))
    try:
        async with asyncio.timeout(phase_timeout_s(drain)):
            await rec.finished.wait()
        drain_cpu = await meter.stop()
        rec.probing_over(await probing)
        async with asyncio.timeout(phase_timeout_s(opts.latency_jobs)):
            await rec.probes_in.wait()
    finally:
        probing.cancel()
        await worker.stop(grace_s=5)
        manager.workers.remove(worker)
    await delete_keys(client, prefix)
    if rec.first is None or rec.last is None:
        raise RuntimeError("backlog drain did not finish")
    lat = sorted(rec.probe_ms)
    return {
        "system": "jobmesh",
        "size": size,
        "drain_jobs": drain,
        "fill_jobs_s": round(size / fill_s),
        "used_memory_delta": after - before,
        "used_memory_per_job": round((after - before) / size, 1),
        "keys": keys,
        "bytes_per_waiting_job": round(key_bytes / size, 1),
        **stored,
        "drain_jobs_s": round(drain / max(rec.last - rec.first, 1e-9)),
        # CPU per job: this process (ours alone) and redis-server (shared: others' commands count)
        "fill_bench_cpu_us": round(1e6 * fill_cpu.bench_cpu_s / size, 1),
        "fill_redis_cpu_us": round(1e6 * fill_cpu.redis_cpu_s / size, 1),
        "drain_bench_cpu_us": round(1e6 * drain_cpu.bench_cpu_s / drain, 1),
        "drain_redis_cpu_us": round(1e6 * drain_cpu.redis_cpu_s / drain, 1),
        "probes_in_backlog": len(lat),
        "pick_p50_ms": round(percentile(lat, 0.5), 3) if lat else None,
        "pick_p99_ms": round(percentile(lat, 0.99), 3) if lat else None,
    }


def bullmq_dir() -> Path:
    return Path(os.environ.get("BULLMQ_DIR") or BULLMQ_DIR_DEFAULT)


def bullmq_size(opts: BenchOptions, size: int) -> dict[str, Any]:
    """One backlog size on BullMQ (bench/bullmq_backlog.js): its JSON row, or {"skipped": why}."""
    if opts.skip_bullmq:
        return {"skipped": "--skip-bullmq"}
    node = shutil.which("node")
    modules = bullmq_dir() / "node_modules"
    if node is None:
        return {"skipped": "node not installed"}
    if not (modules / "bullmq").is_dir():
        return {"skipped": f"BullMQ not installed in {modules} (../shared/bench/bullmq/run.sh installs it)"}
    cmd = [
        node, str(BULLMQ_SCRIPT),
        "--redis", opts.redis_url,
        "--prefix", bullmq_prefix(opts),
        "--sizes", str(size),
        "--drain", str(opts.backlog_drain),
        "--concurrency", str(opts.concurrency),
        "--probes", str(opts.latency_jobs),
        "--gap-ms", str(round(PROBE_GAP_S * 1000)),
    ]  # fmt: skip
    env = {**os.environ, "NODE_PATH": str(modules)}
    try:
        done = subprocess.run(
            cmd, cwd=bullmq_dir(), env=env, capture_output=True, text=True, timeout=1800, check=False
        )
    except subprocess.TimeoutExpired:
        return {"skipped": f"BullMQ backlog of {size} did not finish within 1800s"}
    rows = [json.loads(ln) for ln in done.stdout.splitlines() if ln.startswith('{"system"')]
    if done.returncode != 0 or not rows:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"skipped": f"BullMQ backlog failed (exit {done.returncode}): {' | '.join(tail)}"}
    row: dict[str, Any] = rows[-1]
    return row


def _log(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


async def run_backlog(opts: BenchOptions) -> list[dict[str, Any]]:
    """Every size, jobmesh then BullMQ; one row per size: {"size", "jobmesh": {...}, "bullmq": {...}}."""
    jm_opts = replace(opts, prefix=backlog_prefix(opts))
    admin = aioredis.Redis.from_url(opts.redis_url)
    manager = QueueManager(bench_settings(jm_opts), service="bench", queues=[CATEGORIZATION])
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    try:
        await manager.initialize()
        await fill(manager, WARMUP_JOBS)  # scripts and streams exist before the first measure
        await delete_keys(admin, jm_opts.prefix)
        for size in opts.backlog:
            _log(f"backlog {size}: jobmesh fill, drain {min(opts.backlog_drain, size)}, probes")
            jm = await jobmesh_size(opts, manager, size)
            _log(f"backlog {size}: BullMQ")
            bull = await asyncio.to_thread(bullmq_size, opts, size)
            rows.append({"size": size, "jobmesh": jm, "bullmq": bull})
        _log(f"backlog phase: {time.perf_counter() - t0:.0f}s")
    finally:
        await manager.close(grace_s=5)
        for prefix in (jm_opts.prefix, bullmq_prefix(opts)):
            await delete_keys(admin, prefix)
        await admin.aclose()
    return rows


def ratio(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return round(float(a) / float(b), 3)
    return None


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size: both systems' figures side by side, with jobmesh/BullMQ ratios."""
    out = []
    for row in rows:
        jm, bull = row["jobmesh"], row["bullmq"]
        out.append(
            {
                "size": row["size"],
                "jobmesh": jm,
                "bullmq": bull,
                "drain_ratio": ratio(jm.get("drain_jobs_s"), bull.get("drain_jobs_s")),
                "pick_p99_ratio": ratio(jm.get("pick_p99_ms"), bull.get("pick_p99_ms")),
                "bytes_ratio": ratio(jm.get("bytes_per_waiting_job"), bull.get("bytes_per_waiting_job")),
            }
        )
    return out


def _n(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and v < 100:
        return f"{v:.2f}"
    return f"{v:,.0f}"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "backlog (bench/backlog.py): N jobs waiting; drain = first jobs picked from the full backlog,",
        "  1st..last handler start; pick p99 = enqueue->start of probes put at the head of the line while",
        "  the backlog drains (jobmesh CRITICAL lane, BullMQ lifo);",
        "  B/job = MEMORY USAGE of the queue's keys / N",
        f"{'waiting':>9} {'drain jm':>9} {'BullMQ':>9} {'jm/B':>6}  {'pick p99 jm':>11} {'BullMQ':>8} "
        f"{'probes':>9}  {'B/job jm':>9} {'BullMQ':>8} {'jm/B':>6}",
    ]
    for row in summary(rows):
        jm, bull = row["jobmesh"], row["bullmq"]
        lines.append(
            f"{row['size']:>9,} {_n(jm.get('drain_jobs_s')):>9} {_n(bull.get('drain_jobs_s')):>9} "
            f"{_n(row['drain_ratio']):>6}  {_n(jm.get('pick_p99_ms')):>11} {_n(bull.get('pick_p99_ms')):>8} "
            f"{str(jm.get('probes_in_backlog', '-')) + '/' + str(bull.get('probes_in_backlog', '-')):>9}  "
            f"{_n(jm.get('bytes_per_waiting_job')):>9} {_n(bull.get('bytes_per_waiting_job')):>8} "
            f"{_n(row['bytes_ratio']):>6}"
        )
        if "skipped" in bull:
            lines.append(f"  BullMQ not run: {bull['skipped']}")
        if "fill_bench_cpu_us" in jm:
            lines.append(
                f"  jobmesh CPU per job, bench/redis-server us: fill {jm['fill_bench_cpu_us']}/"
                f"{jm['fill_redis_cpu_us']}, drain {jm['drain_bench_cpu_us']}/{jm['drain_redis_cpu_us']}"
                f"; a job hash: {jm['job_hash_bytes']} B, {jm['job_hash_encoding']} "
                f"(hash-max-listpack-value {jm['hash_max_listpack_value']})"
            )
    return "\n".join(lines)
