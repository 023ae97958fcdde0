"""`python -m bench dlq`: dlq-svc measured as it runs, on its own prefix.

    python -m bench dlq [--redis URL] [--prefix P] [--classify 20000] [--capture 5000]
                        [--failures 10000] [--seconds 60] [--workers 3] [--quick]

Three phases, one JSON line at the end (and a table before it):

- classify: what deciding one dead letter costs (classification, risk and
  recovery from their tables, the DeadLetter built), in-process, per failure;
- capture: `--capture` FailedJob records appended at once across the eight
  queues' dead-letter streams (as the queue scripts write them), read by
  dlq-svc running as a child process (`python -m dlq_svc`): dead letters
  stored per second, from the first record to the last one stored;
- storm: `--failures` jobs failing within `--seconds`, spread over the eight
  queues: this process only enqueues them (paced batches, ten a second) and
  watches, while `--workers` child processes (bench.dlq_workers, each serving
  the eight queues with handlers raising a few realistic errors) fail them,
  and a WatchAlerts client counts the alerts it gets, per 10 s window
  (`storm_alerts_per_10s`): every failure must end as exactly one dead letter
  (lost and duplicates are counted, never assumed), and alerts must keep
  flowing during the storm (dlq-svc runs with a 5 s alert cooldown, so the
  same patterns alert again all through it). `storm_send_seconds` says how
  long sending took (the pace asked for, or longer when this process could
  not keep it), and `storm_capture_seconds` how soon after the first batch
  dlq-svc held them all.

The prefix is refused when it holds keys, and every key under it is deleted
afterwards. Nothing here asserts a speed; the figures are for reading.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import grpc
import redis.asyncio as aioredis

from bench.dlq_workers import ERRORS, storm_settings
from bench.keyspace import delete_keys, refuse_used_prefix
from bench.services import ROOT, ServiceChild, python_env
from dlq_svc.capture import dead_letter
from dlq_svc.settings import DlqSettings
from jobmesh.dlq.v1 import dead_letter_service_pb2 as dpb
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import failure_pb2, probe_pb2
from queue_system.catalog import ALL_QUEUES
from queue_system.dead_letters import DeadLetterRecord
from queue_system.envelope import JobRequest
from queue_system.failure import attempt_error, timestamp_ms
from queue_system.keys import EntryField, QueueKeys
from queue_system.manager import QueueManager
from queue_system.settings import redact_url

# A phase that fails is reported, with the reason, and the next one still runs.
PHASE_ERRORS: Final = (RuntimeError, OSError, grpc.aio.AioRpcError, aioredis.RedisError)
QUICK: Final = {"classify": 2000, "capture": 400, "failures": 400, "seconds": 4.0, "workers": 2}
# dlq-svc's alert cooldown in the bench: with the default (10 min) the storm's few fingerprints and
# eight queues alert once, in its first seconds, and a stalled alert path afterwards would go unseen;
# 5 s makes each of them alert again all through the storm, so every 10 s window shows the path alive.
ALERT_COOLDOWN: Final = "5s"
# Jobs each child's worker runs at once, per queue (three children: 3 x 8 x 50 in flight at most).
WORKER_CONCURRENCY: Final = 50


@dataclass(frozen=True, slots=True)
class DlqOptions:
    redis_url: str
    prefix: str
    classify: int = 20_000
    capture: int = 5_000
    failures: int = 10_000
    seconds: float = 60.0
    workers: int = 3


@dataclass(slots=True)
class Figures:
    values: dict[str, float | int | str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def parse(argv: Sequence[str]) -> DlqOptions:
    p = argparse.ArgumentParser(prog="python -m bench dlq", description=__doc__.split("\n\n")[0])
    p.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    p.add_argument("--prefix", default=f"bench-dlq-{os.getpid()}")
    p.add_argument("--classify", type=int)
    p.add_argument("--capture", type=int)
    p.add_argument("--failures", type=int)
    p.add_argument("--seconds", type=float)
    p.add_argument("--workers", type=int, help="failing-worker child processes in the storm (default 3)")
    p.add_argument("--quick", action="store_true", help="a CI smoke run of every phase, in seconds")
    a = p.parse_args(argv)
    base: dict[str, Any] = dict(QUICK) if a.quick else {}
    given = {
        k: getattr(a, k) for k in ("classify", "capture", "failures", "seconds") if getattr(a, k) is not None
    }
    if a.workers is not None:
        given["workers"] = max(1, a.workers)
    return DlqOptions(a.redis, a.prefix, **{**base, **given})


def failed_job(queue: str, n: int) -> failure_pb2.FailedJob:
    """A FailedJob as the queue runtime writes it: the envelope, and three attempts' errors."""
    job = env.Job(id=f"job-{n}", queue=queue, payload=env.JobPayload(probe=probe_pb2.ProbeJob(seq=n)))
    now = time.time() * 1000
    errors = [attempt_error(ERRORS[(n + a) % len(ERRORS)](n), a, now, "bench-worker") for a in (1, 2, 3)]
    return failure_pb2.FailedJob(
        job=job,
        queue=queue,
        job_id=job.id,
        errors=errors,
        attempts_made=3,
        deliveries=3,
        reason=failure_pb2.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED,
        enqueued_at=timestamp_ms(now - 5000),
        dead_lettered_at=timestamp_ms(now),
    )


def classify_phase(opts: DlqOptions) -> dict[str, float | int | str]:
    """Microseconds to decide one dead letter (category, risk, recovery, the record built)."""
    records = [
        DeadLetterRecord(ALL_QUEUES[n % 8], f"{n}-0", f"job-{n}", failed_job(ALL_QUEUES[n % 8], n))
        for n in range(opts.classify)
    ]
    settings = DlqSettings()
    start = time.perf_counter()
    for r in records:
        dead_letter(r, retries=0, settings=settings, received_ms=1)
    seconds = time.perf_counter() - start
    return {"classify_us_per_failure": round(seconds / len(records) * 1e6, 2), "classified": len(records)}


async def stats(child: ServiceChild) -> Any:
    call = child.unary("/jobmesh.dlq.v1.DeadLetterService/GetDeadLetterStats", dpb.GetDeadLetterStatsResponse)
    return (await call(dpb.GetDeadLetterStatsRequest(), timeout=10)).stats


async def wait_total(child: ServiceChild, total: int, within_s: float) -> tuple[int, float]:
    """Poll until dlq-svc holds `total` dead letters (or `within_s` passed): (held, when)."""
    deadline = time.monotonic() + within_s
    held = 0
    while time.monotonic() < deadline:
        held = int((await stats(child)).total)
        if held >= total:
            break
        await asyncio.sleep(0.05)
    return held, time.monotonic()


async def capture_phase(
    opts: DlqOptions, client: aioredis.Redis, child: ServiceChild
) -> dict[str, float | int | str]:
    """Dead letters stored per second, the records appended all at once."""
    records = [
        (q, failed_job(q, n).SerializeToString()) for n in range(opts.capture) for q in [ALL_QUEUES[n % 8]]
    ]
    start = time.monotonic()
    async with client.pipeline(transaction=False) as pipe:
        for n, (queue, raw) in enumerate(records):
            pipe.xadd(
                QueueKeys(opts.prefix, queue).dead_letters,
                {EntryField.DEAD_JOB_ID: f"job-{n}", EntryField.DEAD_RECORD: raw},
            )
        await pipe.execute()
    held, done = await wait_total(child, opts.capture, within_s=max(60.0, opts.capture / 50))
    seconds = done - start
    return {
        "capture_records": opts.capture,
        "capture_stored": held,
        "capture_seconds": round(seconds, 3),
        "captured_per_s": round(held / seconds, 1) if seconds else 0.0,
    }


class WorkerChild:
    """A bench.dlq_workers process: its spec in a JSON file, what it says in JSON lines on stdout."""

    def __init__(self, spec: dict[str, Any]) -> None:
        fd, name = tempfile.mkstemp(prefix="bench-dlq-workers-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(spec, f)
        self.spec_path = Path(name)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.dlq_workers", str(self.spec_path),
            cwd=ROOT, env=python_env({}), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip

    async def said(self, timeout_s: float) -> dict[str, Any]:
        """Its next JSON line (a child that exits first is an error, with its exit code)."""
        assert self.proc is not None and self.proc.stdout is not None
        async with asyncio.timeout(timeout_s):
            line = await self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"bench.dlq_workers exited ({await self.proc.wait()}) without an answer")
        said: dict[str, Any] = json.loads(line)
        return said

    async def stop(self) -> None:
        """SIGTERM (its workers stop and give back what they hold), SIGKILL after 20 s."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                async with asyncio.timeout(20):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.spec_path.unlink(missing_ok=True)


def alert_windows(alerts: Sequence[float], start: float, end: float, width_s: float = 10.0) -> str:
    """Alerts received in each `width_s` window from `start` to `end`, e.g. "4 2 3 1 5 2"."""
    windows = [0] * max(1, math.ceil((end - start) / width_s))
    for t in alerts:
        if start <= t <= end:
            windows[min(len(windows) - 1, int((t - start) // width_s))] += 1
    return " ".join(str(n) for n in windows)


async def storm_phase(opts: DlqOptions, child: ServiceChild, before: int) -> dict[str, float | int | str]:
    """`failures` jobs failing within `seconds` across the eight queues, alerts watched meanwhile.

    This process only produces (paced batches) and watches; the failing
    workers are `opts.workers` child processes, so the send rate is the
    storm's, not what one core could fail.
    """
    manager = QueueManager(storm_settings(opts.redis_url, opts.prefix), service="bench-storm")
    await manager.initialize()
    spec = {"redis": opts.redis_url, "prefix": opts.prefix, "concurrency": WORKER_CONCURRENCY}
    children = [WorkerChild(spec) for _ in range(opts.workers)]
    alerts: list[float] = []
    watching = asyncio.create_task(_watch_alerts(child, alerts))
    try:
        for c in children:
            await c.start()
        for c in children:
            await c.said(timeout_s=60)  # ready
        start = time.monotonic()
        batch = max(1, opts.failures // max(1, int(opts.seconds * 10)))  # ten batches a second
        sent = 0
        while sent < opts.failures:
            due = start + opts.seconds * sent / opts.failures
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            n = min(batch, opts.failures - sent)
            await manager.add_jobs([
                JobRequest(q, env.JobPayload(probe=probe_pb2.ProbeJob(seq=seq)), task_name=q)
                for seq in range(sent, sent + n) for q in [ALL_QUEUES[seq % 8]]
            ])  # fmt: skip
            sent += n
        sent_s = time.monotonic() - start
        held, done = await wait_total(child, before + opts.failures, within_s=max(120.0, opts.seconds * 2))
        during = sum(1 for t in alerts if t <= done)
        s = await stats(child)
        exited = [c.proc.returncode for c in children if c.proc is not None and c.proc.returncode is not None]
        if exited:  # the figures above would then be of fewer workers than reported
            raise RuntimeError(f"bench.dlq_workers exited during the storm ({exited})")
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
        await asyncio.gather(*(c.stop() for c in children))
        await manager.close(1)
    captured = held - before
    return {
        "storm_failures": opts.failures,
        "storm_workers": opts.workers,
        "storm_send_seconds": round(sent_s, 3),
        "storm_captured": captured,
        "storm_lost": max(0, opts.failures - captured),
        "storm_duplicates": max(0, captured - opts.failures),
        "storm_capture_seconds": round(done - start, 3),
        "storm_alerts": during,
        "storm_alerts_per_10s": alert_windows(alerts, start, done),
        "storm_first_alert_s": round(min(alerts) - start, 3) if alerts else -1.0,
        "storm_last_alert_s": round(max(alerts) - start, 3) if alerts else -1.0,
        "storm_categories": len([k for k, v in s.by_category.items() if v]),
    }


async def _watch_alerts(child: ServiceChild, seen: list[float]) -> None:
    call = child.channel.unary_stream(
        "/jobmesh.dlq.v1.DeadLetterService/WatchAlerts",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=dpb.WatchAlertsResponse.FromString,
    )
    async for response in call(dpb.WatchAlertsRequest()):
        if response.WhichOneof("kind") == "alert":
            seen.append(time.monotonic())


async def run(opts: DlqOptions) -> Figures:
    out = Figures()
    client = aioredis.Redis.from_url(opts.redis_url)
    await refuse_used_prefix(client, opts.prefix)
    child = ServiceChild(
        "dlq_svc",
        {
            "REDIS_URL": opts.redis_url,
            "QUEUE_PREFIX": opts.prefix,
            "DLQ_RETRY_DELAY": "1h",
            "DLQ_ALERT_COOLDOWN": ALERT_COOLDOWN,
            "LOG_LEVEL": "WARNING",
        },
    )
    try:
        out.values.update(classify_phase(opts))
        await child.start()
        try:
            out.values.update(await capture_phase(opts, client, child))
        except PHASE_ERRORS as exc:
            out.failures["capture"] = f"{type(exc).__name__}: {exc}"
        try:
            out.values.update(await storm_phase(opts, child, int((await stats(child)).total)))
        except PHASE_ERRORS as exc:
            out.failures["storm"] = f"{type(exc).__name__}: {exc}"
    finally:
        await child.stop()
        deleted = await delete_keys(client, opts.prefix)
        await client.aclose()
        print(f"bench: deleted {deleted} key(s) under {opts.prefix}", file=sys.stderr)
    return out


def main(argv: Sequence[str]) -> int:
    # each storm failure is a worker warning by design: only errors are worth a line here
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    opts = parse(argv)
    figures = asyncio.run(run(opts))
    print(f"dlq-svc on {redact_url(opts.redis_url)} (prefix {opts.prefix})")
    for name, value in figures.values.items():
        print(f"  {name:28} {value}")
    for name, why in figures.failures.items():
        print(f"  {name:28} FAILED: {why}")
    line = {"system": "jobmesh-dlq", **figures.values, "failures": figures.failures}
    print(json.dumps(line), flush=True)
    return 1 if figures.failures or figures.values.get("storm_lost", 0) else 0
