"""Many queues and workers: the eight queues served by two worker processes at once, and
delayed jobs falling due together; jobmesh and BullMQ in the same run, on the same Redis.

Two phases per system, each with two worker child processes that serve all
eight queues at once (jobmesh: `bench.fleet_workers`, one Worker per queue;
BullMQ: `bench/bullmq_fleet.js`, eight Workers), each queue at the bench's
concurrency in each process, no rate limit, completed jobs not kept:

- drain: N probe jobs, round robin over the eight queues, added first with no
  worker running; then both children start together (a `go` line after both
  are connected). jobs/s = N / (first handler start -> N-th handler start,
  across both processes: a start window, the same on both sides). Fairness:
  of the first N/2 starts, the fewest any queue had over the most any queue
  had (1.0 = every queue served alike), and the smaller process's share of
  all starts over the larger's.
- delayed: with the children running and idle, `delayed` jobs (1,000) over the
  eight queues, job i due at T + i/delayed seconds (T = 2 s ahead): all due
  within one second. Lateness = handler start - the time the job was due, as
  each system scheduled it (jobmesh: its score in the delayed set, read back
  after the add; BullMQ: job.timestamp + opts.delay). p50/p99/max, how many
  started more than 100 ms late (the target: none), and how many started
  before they were due (must be none).

Start times are wall-clock ms in the children (the same machine clock as
Redis's). Each system's keys live under its own prefix, refused when used,
and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

import redis.asyncio as aioredis
from google.protobuf.duration_pb2 import Duration

from bench.baselines import bullmq_script
from bench.fleet_workers import fleet_settings
from bench.keyspace import delete_keys, refuse_used_prefix
from bench.measure import percentile
from bench.options import BATCH, BenchOptions
from bench.services import ROOT, python_env
from jobmesh.jobs.v1 import envelope_pb2, probe_pb2
from queue_system.catalog import ALL_QUEUES
from queue_system.envelope import JobRequest
from queue_system.manager import QueueManager

PROCESSES: Final = 2
DELAY_LEAD_MS: Final = 2000  # the first delayed job is due this far ahead of the add
DUE_SPREAD_MS: Final = 1000  # ... and the last one this much later: all due in the same second
LATE_MS: Final = 100.0  # the target: every delayed job started at most this late
READY_TIMEOUT_S: Final = 60.0
FLEET_JS: Final = Path(__file__).with_name("bullmq_fleet.js")
PAD: Final = "x" * 120


def phase_timeout_s(n: int) -> float:
    return max(60.0, n / 200)


class Child:
    """One worker child: JSON lines on stdout (`started` counts kept apart), `go` on stdin."""

    def __init__(self, argv: Sequence[str], env: dict[str, str]) -> None:
        self.argv, self.env = list(argv), env
        self.proc: asyncio.subprocess.Process | None = None
        self.started = 0
        self.lines: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, cwd=ROOT, env=self.env, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024,
        )  # fmt: skip
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            if not line.startswith(b"{"):
                continue
            said: dict[str, Any] = json.loads(line)
            if "started" in said:
                self.started = int(said["started"])
            else:
                await self.lines.put(said)
        await self.lines.put(None)

    async def said(self, key: str, timeout_s: float) -> Any:
        """The value of `key` in its next line holding it (a child that exits first is an error)."""
        async with asyncio.timeout(timeout_s):
            while True:
                said = await self.lines.get()
                if said is None:
                    code = await self.proc.wait() if self.proc else "?"
                    raise RuntimeError(f"{self.argv[:3]} exited ({code}) before saying {key!r}")
                if key in said:
                    return said[key]

    async def go(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        await self.proc.stdin.drain()

    async def finish(self) -> list[list[float]]:
        """SIGTERM: it stops its workers and says the starts it recorded."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        starts: list[list[float]] = await self.said("starts", 30)
        await self.said("stopped", 30)
        await self.proc.wait()
        return starts

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()


@dataclass(slots=True)
class System:
    """How the bench drives one system's fleet."""

    name: str
    worker_argv: Callable[[int], list[str]]  # child index -> argv
    env: dict[str, str]
    produce: Callable[[int], Awaitable[None]]
    # (count, due epoch ms of job 0) -> due ms by seq (empty: the children report it)
    produce_delayed: Callable[[int, float], Awaitable[dict[int, float]]]


@dataclass(slots=True)
class FleetResult:
    figures: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


async def run_children(
    system: System,
    expected: int,
    before_go: Callable[[], Awaitable[None]] | None,
    after_go: Callable[[], Awaitable[None]] | None,
) -> list[list[list[float]]]:
    """Start the two children, `before_go`, go, `after_go`, wait for `expected` starts; their starts."""
    children = [Child(system.worker_argv(i), system.env) for i in range(PROCESSES)]
    try:
        for c in children:
            await c.start()
        for c in children:
            await c.said("ready", READY_TIMEOUT_S)
        if before_go is not None:
            await before_go()
        for c in children:
            await c.go()
        if after_go is not None:
            await after_go()
        deadline = time.monotonic() + phase_timeout_s(expected)
        while sum(c.started for c in children) < expected:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{system.name}: {sum(c.started for c in children)} of {expected} started")
            await asyncio.sleep(0.01)
        return [await c.finish() for c in children]
    finally:
        for c in children:
            await c.kill()


def drain_figures(per_process: Sequence[Sequence[Sequence[float]]], queues: int) -> dict[str, float]:
    """jobs/s over the start window, queue fairness over the first half of starts, process split."""
    starts = sorted((s[2], int(s[0])) for proc in per_process for s in proc)
    n = len(starts)
    window_s = (starts[-1][0] - starts[0][0]) / 1000 if n > 1 else 0.0
    half = [0] * queues
    for _, q in starts[: max(1, n // 2)]:
        half[q] += 1
    counts = [len(p) for p in per_process]
    return {
        "jobs_s": n / window_s if window_s > 0 else 0.0,
        "queue_fairness": min(half) / max(half) if max(half) else 0.0,
        "process_split": min(counts) / max(counts) if max(counts) else 0.0,
    }


def lateness_figures(
    per_process: Sequence[Sequence[Sequence[float]]], due: dict[int, float]
) -> dict[str, float]:
    """p50/p99/max lateness (ms), how many started > LATE_MS late, and how many before they were due."""
    late = sorted(s[2] - (due[int(s[1])] if due else s[3]) for proc in per_process for s in proc)
    return {
        "late_p50_ms": percentile(late, 0.5),
        "late_p99_ms": percentile(late, 0.99),
        "late_max_ms": late[-1],
        "late_over_100ms": float(sum(1 for x in late if x > LATE_MS)),
        "early": float(sum(1 for x in late if x < 0)),
    }


async def measure(system: System, n: int, delayed: int) -> FleetResult:
    out = FleetResult()
    log(f"fleet {system.name}: {n} jobs over {len(ALL_QUEUES)} queues; {PROCESSES} worker processes drain")
    drained = await run_children(system, n, lambda: system.produce(n), None)
    seen = sum(len(p) for p in drained)
    if seen != n:
        out.notes.append(f"fleet {system.name}: {seen} starts for {n} jobs")
    out.figures.update({f"drain_{k}": v for k, v in drain_figures(drained, len(ALL_QUEUES)).items()})
    log(f"fleet {system.name}: {delayed} delayed jobs due within {DUE_SPREAD_MS} ms, workers running")
    due: dict[int, float] = {}

    async def add_delayed() -> None:
        await asyncio.sleep(0.2)  # the children's workers are up and waiting
        due.update(await system.produce_delayed(delayed, time.time() * 1000 + DELAY_LEAD_MS))

    ran = await run_children(system, delayed, None, add_delayed)
    seen = sum(len(p) for p in ran)
    if seen != delayed:
        out.notes.append(f"fleet {system.name}: {seen} starts for {delayed} delayed jobs")
    out.figures.update(lateness_figures(ran, due))
    if out.figures["early"]:
        out.notes.append(f"fleet {system.name}: {out.figures['early']:.0f} delayed job(s) started early")
    return out


def log(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


def _spec_file(spec: dict[str, Any]) -> Path:
    fd, name = tempfile.mkstemp(prefix="bench-fleet-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(spec, f)
    return Path(name)


def _probe(queue: str, seq: int, delay_ms: int = 0) -> JobRequest:
    delay = Duration(seconds=delay_ms // 1000, nanos=delay_ms % 1000 * 1_000_000)
    opts = envelope_pb2.JobOptions(delay=delay)
    return JobRequest(
        queue,
        envelope_pb2.JobPayload(probe=probe_pb2.ProbeJob(seq=seq, pad=PAD)),
        options=opts if delay_ms > 0 else None,
        task_name=queue,
    )


async def run_jobmesh(opts: BenchOptions, delayed: int) -> FleetResult:
    prefix = f"{opts.prefix}-fleet"
    queues = list(ALL_QUEUES)
    manager = QueueManager(
        fleet_settings(opts.redis_url, prefix, queues, opts.concurrency), service="bench-fleet", queues=queues
    )
    spec = _spec_file(
        {"redis": opts.redis_url, "prefix": prefix, "queues": queues, "concurrency": opts.concurrency,
         "loop": opts.loop}
    )  # fmt: skip

    async def produce(n: int) -> None:
        for s in range(0, n, BATCH):
            await manager.add_jobs([_probe(queues[i % len(queues)], i) for i in range(s, min(n, s + BATCH))])

    async def produce_delayed(n: int, due0_ms: float) -> dict[int, float]:
        ids: dict[str, int] = {}
        for s in range(0, n, BATCH):
            now_ms = time.time() * 1000
            batch = [
                _probe(queues[i % len(queues)], i, max(1, round(due0_ms + i * DUE_SPREAD_MS / n - now_ms)))
                for i in range(s, min(n, s + BATCH))
            ]
            for i, added in zip(range(s, s + len(batch)), await manager.add_jobs(batch), strict=True):
                ids[added.job_id] = i
        due: dict[int, float] = {}
        for q in queues:  # as scheduled: the scores of the delayed set
            rows = await manager.client.zrange(manager.queue(q).keys.delayed, 0, -1, withscores=True)
            for job_id, score in cast(list[tuple[bytes, float]], rows):
                if (seq := ids.get(job_id.decode())) is not None:
                    due[seq] = float(score)
        if len(due) != n:
            raise RuntimeError(f"{len(due)} of {n} delayed jobs found delayed (lead too short?)")
        return due

    system = System(
        "jobmesh",
        lambda i: [sys.executable, "-m", "bench.fleet_workers", str(spec)],
        python_env({}), produce, produce_delayed,
    )  # fmt: skip
    admin = aioredis.Redis.from_url(opts.redis_url)
    try:
        await refuse_used_prefix(admin, prefix)
        await manager.initialize()
        return await measure(system, opts.n, delayed)
    finally:
        await manager.close(1)
        spec.unlink(missing_ok=True)
        log(f"fleet jobmesh: deleted {await delete_keys(admin, prefix)} key(s) under {prefix}:")
        await admin.aclose()


def bullmq_modules() -> Path | None:
    """node_modules of the BullMQ install run.sh made (BULLMQ_DIR, else ~/.cache/jobmesh-bullmq-baseline)."""
    work = os.environ.get("BULLMQ_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "jobmesh-bullmq-baseline"
    )
    modules = Path(work) / "node_modules"
    return modules if (modules / "bullmq").is_dir() else None


async def _node(env: dict[str, str], *args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        "node", str(FLEET_JS), *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"bullmq_fleet.js {args[0]} failed ({proc.returncode}): {err.decode()[-500:]}")


async def run_bullmq(opts: BenchOptions, delayed: int, modules: Path) -> FleetResult:
    prefix = f"{opts.prefix}-bullfleet"
    env = {**os.environ, "NODE_PATH": str(modules)}
    common = ["--redis", opts.redis_url, "--prefix", prefix, "--queues", str(len(ALL_QUEUES))]

    async def produce(n: int) -> None:
        await _node(env, "produce", *common, "--n", str(n))

    async def produce_delayed(n: int, due0_ms: float) -> dict[int, float]:
        await _node(env, "delayed", *common, "--n", str(n), "--due-ms", str(round(due0_ms)),
                    "--spread-ms", str(DUE_SPREAD_MS))  # fmt: skip
        return {}  # the workers report each job's due time

    system = System(
        "bullmq",
        lambda i: ["node", str(FLEET_JS), "worker", *common, "--concurrency", str(opts.concurrency)],
        env, produce, produce_delayed,
    )  # fmt: skip
    admin = aioredis.Redis.from_url(opts.redis_url)
    try:
        await refuse_used_prefix(admin, prefix)
        return await measure(system, opts.n, delayed)
    finally:
        log(f"fleet bullmq: deleted {await delete_keys(admin, prefix)} key(s) under {prefix}:")
        await admin.aclose()


@dataclass(slots=True)
class Fleet:
    jobmesh: dict[str, float]
    bullmq: dict[str, float] | None
    bullmq_skipped: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        ratio = {}
        if self.bullmq:
            for k in ("drain_jobs_s", "late_p50_ms", "late_p99_ms", "late_max_ms"):
                if self.bullmq.get(k):
                    ratio[k] = round(self.jobmesh[k] / self.bullmq[k], 3)
        return {
            "processes": PROCESSES,
            "queues": len(ALL_QUEUES),
            "jobmesh": {k: round(v, 3) for k, v in self.jobmesh.items()},
            "bullmq": {k: round(v, 3) for k, v in self.bullmq.items()} if self.bullmq else None,
            **({"bullmq_skipped": self.bullmq_skipped} if self.bullmq_skipped else {}),
            "ratio_vs_bullmq": ratio,
            "notes": self.notes,
        }

    def table(self) -> str:
        rows = (
            ("drain, jobs/s (1st..N-th start, both processes)", "drain_jobs_s"),
            ("  queue fairness, first half of starts (min/max)", "drain_queue_fairness"),
            ("  process split (min/max)", "drain_process_split"),
            ("delayed lateness p50, ms", "late_p50_ms"),
            ("delayed lateness p99, ms", "late_p99_ms"),
            ("delayed lateness max, ms", "late_max_ms"),
            (f"delayed started > {LATE_MS:.0f} ms late", "late_over_100ms"),
            ("delayed started early", "early"),
        )
        width = max(len(r[0]) for r in rows) + 2
        lines = [
            f"fleet: {len(ALL_QUEUES)} queues, {PROCESSES} worker processes each serving all of them "
            f"(jobmesh, then BullMQ{'' if self.bullmq else ': not run, ' + self.bullmq_skipped})",
            f"{'figure':<{width}}{'jobmesh':>10}{'BullMQ':>10}{'jm/BullMQ':>11}",
        ]
        for label, key in rows:
            mine = self.jobmesh.get(key)
            bull = self.bullmq.get(key) if self.bullmq else None
            r = f"{mine / bull:.2f}x" if mine is not None and bull else "-"
            lines.append(f"{label:<{width}}{_num(mine):>10}{_num(bull):>10}{r:>11}")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"


async def run_fleet(opts: BenchOptions, delayed: int) -> Fleet:
    """jobmesh's fleet, then BullMQ's (unless skipped or not installed)."""
    jm = await run_jobmesh(opts, delayed)
    notes = list(jm.notes)
    skipped = ""
    bull: FleetResult | None = None
    modules = bullmq_modules()
    if opts.skip_bullmq:
        skipped = "--skip-bullmq"
    elif shutil.which("node") is None:
        skipped = "node not installed"
    elif modules is None:
        skipped = f"BullMQ not installed (run {bullmq_script(opts)} once)"
    else:
        try:
            bull = await run_bullmq(opts, delayed, modules)
            notes += bull.notes
        except (RuntimeError, TimeoutError, OSError, ValueError) as exc:
            skipped = f"BullMQ fleet failed: {type(exc).__name__}: {exc}"
    return Fleet(jm.figures, bull.figures if bull else None, skipped, notes)
