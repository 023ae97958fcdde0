"""`--profile` / `--profile-enqueue`: one more drain (or bulk enqueue) of N task jobs under
cProfile, and where Redis spent its time.

The profiled runs come after every measured phase, so the profiler's overhead
touches no reported figure. It prints the top functions by own time and by
cumulative time (cumulative time of coroutines counts each resumption as a
call), the CPU this process and Redis used, and the Redis commands of the
window (INFO commandstats deltas; commands run inside a Lua script count both
under EVALSHA and under their own name). Other clients of a shared Redis show
up in the command deltas too.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from bench.jobmesh_phases import TASK_TYPE, JobmeshBench, phase_timeout_s
from bench.measure import CpuMeter, Window, processed, wait_processed
from bench.payloads import QUEUE, task_job


@dataclass(slots=True)
class CommandStat:
    name: str
    calls: int
    usec: int


@dataclass(slots=True)
class ProfileReport:
    what: str
    n: int
    jobs_s: float
    window: Window
    by_own_time: str
    by_cumulative: str
    commands: list[CommandStat]

    def text(self) -> str:
        shares = self.window.shares()
        lines = [
            f"== profile: {self.what} of {self.n} task jobs under cProfile "
            f"({self.jobs_s:,.0f} jobs/s with the profiler on; not a figure) ==",
            f"wall {self.window.wall_s:.3f}s; bench process CPU {self.window.bench_cpu_s:.3f}s "
            f"({shares['bench_cpu_pct']}% of wall); redis-server CPU {self.window.redis_cpu_s:.3f}s "
            f"({shares['redis_cpu_pct']}%)",
            "",
            "-- Redis commands in the window (INFO commandstats delta, by time) --",
            f"{'command':<22}{'calls':>10}{'usec':>12}{'usec/call':>11}{'per job':>9}",
        ]
        for c in self.commands:
            per_call = c.usec / c.calls if c.calls else 0.0
            lines.append(f"{c.name:<22}{c.calls:>10,}{c.usec:>12,}{per_call:>11.2f}{c.calls / self.n:>9.2f}")
        lines += [
            "",
            "-- by own time (tottime) --",
            self.by_own_time,
            "-- by cumulative time --",
            self.by_cumulative,
        ]
        return "\n".join(lines)


async def commandstats(client: aioredis.Redis) -> dict[str, tuple[int, int]]:
    info = await client.info("commandstats")
    out: dict[str, tuple[int, int]] = {}
    for key, value in info.items():
        if key.startswith("cmdstat_") and isinstance(value, dict):
            out[key.removeprefix("cmdstat_")] = (int(value["calls"]), int(value["usec"]))
    return out


def _listing(profile: cProfile.Profile, sort: str, top: int) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(profile, stream=buf)
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    text = buf.getvalue()
    # drop pstats' preamble (the "ordered by" line and the totals stay)
    return text[text.find("   Ordered by") :].rstrip() + "\n" if "   Ordered by" in text else text


class _Profiled:
    """cProfile, CPU and Redis command deltas around one stretch of work."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self.profile = cProfile.Profile()
        self.meter = CpuMeter(client)
        self.before: dict[str, tuple[int, int]] = {}
        self.t0 = 0.0

    async def start(self) -> None:
        self.before = await commandstats(self.client)
        await self.meter.start()
        self.t0 = time.perf_counter()
        self.profile.enable()

    async def stop(self, what: str, n: int, rate: float, top: int) -> ProfileReport:
        self.profile.disable()
        window = await self.meter.stop()
        after = await commandstats(self.client)
        zero = (0, 0)
        commands = [
            CommandStat(name, calls - self.before.get(name, zero)[0], usec - self.before.get(name, zero)[1])
            for name, (calls, usec) in after.items()
        ]
        return ProfileReport(
            what=what,
            n=n,
            jobs_s=rate,
            window=window,
            by_own_time=_listing(self.profile, "tottime", top),
            by_cumulative=_listing(self.profile, "cumulative", top),
            commands=sorted((c for c in commands if c.calls > 0), key=lambda c: c.usec, reverse=True)[:12],
        )


async def profile_drain(bench: JobmeshBench, top: int) -> ProfileReport:
    """Enqueue N task jobs (not profiled), then drain them with a fresh worker under cProfile
    (worker start to the last acknowledgement)."""
    n, r = bench.opts.n, bench.recorder
    await bench.stop_worker()
    await bench.enqueue(task_job, n)
    acked_before = processed(TASK_TYPE)
    r.arm(n)
    profiled = _Profiled(bench.manager.client)
    await profiled.start()
    try:
        bench.worker = await bench.start_worker()
        await r.wait(phase_timeout_s(n))
        acked_at = await wait_processed(TASK_TYPE, acked_before + n, phase_timeout_s(n))
    finally:
        report = await profiled.stop("drain", n, 0.0, top)
    report.jobs_s = n / (acked_at - profiled.t0)
    await bench.stop_worker()
    return report


async def profile_enqueue(bench: JobmeshBench, top: int) -> ProfileReport:
    """Bulk-enqueue N task jobs (batches of 1,000, no worker) under cProfile; then remove them."""
    n = bench.opts.n
    await bench.stop_worker()
    profiled = _Profiled(bench.manager.client)
    await profiled.start()
    try:
        await bench.enqueue(task_job, n)
    finally:
        report = await profiled.stop("bulk enqueue", n, 0.0, top)
    report.jobs_s = n / (time.perf_counter() - profiled.t0)
    await bench.manager.drain(QUEUE)
    return report
