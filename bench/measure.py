"""Instruments: peak RSS sampled every 50 ms, CPU of this process and of Redis, percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis

from queue_system import metrics

RSS_EVERY_S: Final = 0.05  # as BullMQ's bench: setInterval(..., 50)
MIB: Final = 1024 * 1024
_PAGE: Final = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS: Final = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def rss_bytes() -> int:
    """This process's resident set size now (Linux /proc; else the peak so far)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class RssSampler:
    """Samples RSS every 50 ms on the event loop (as BullMQ's setInterval does on node's)."""

    def __init__(self, every_s: float = RSS_EVERY_S) -> None:
        self.every_s = every_s
        self.peak = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.peak = max(self.peak, rss_bytes())
        self._task = asyncio.get_running_loop().create_task(self._sample(), name="bench:rss")

    async def _sample(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            self.peak = max(self.peak, rss_bytes())

    @property
    def peak_mb(self) -> float:
        return round(self.peak / MIB, 1)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used so far (Linux /proc; else 0.0)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            after_name = f.read().rsplit(b")", 1)[1].split()
        return (int(after_name[11]) + int(after_name[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def run_delay_s(pid: int) -> float:
    """Seconds the main thread of process `pid` has been ready to run but waited for a CPU (Linux
    /proc/PID/schedstat's run delay; else 0.0)."""
    try:
        with open(f"/proc/{pid}/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


async def redis_cpu_s(client: aioredis.Redis) -> float:
    """CPU seconds (user + sys) the Redis server has used since it started."""
    info = await client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


@dataclass(slots=True)
class Window:
    """Wall time of a phase and the CPU that this process and Redis spent in it."""

    wall_s: float = 0.0
    bench_cpu_s: float = 0.0
    redis_cpu_s: float = 0.0

    def shares(self) -> dict[str, float]:
        """CPU as a percentage of wall time (100 = one core busy the whole phase)."""
        wall = self.wall_s or math.inf
        return {
            "bench_cpu_pct": round(100 * self.bench_cpu_s / wall, 1),
            "redis_cpu_pct": round(100 * self.redis_cpu_s / wall, 1),
        }


class CpuMeter:
    """CPU of this process and of Redis over a stretch of time (INFO cpu before and after)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._wall = self._cpu = self._redis = 0.0

    async def start(self) -> None:
        self._redis = await redis_cpu_s(self.client)
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    async def stop(self) -> Window:
        wall, cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu
        return Window(wall, cpu, await redis_cpu_s(self.client) - self._redis)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """BullMQ's bench's percentile: values[min(n - 1, floor(p * n))] of sorted values."""
    return sorted_values[min(len(sorted_values) - 1, math.floor(p * len(sorted_values)))]


def processed(job_type: str, status: str = metrics.SUCCESS) -> float:
    """jobs_processed_total{job_type, status} of this process: jobs acknowledged so far."""
    for family in metrics.JOBS_PROCESSED.collect():
        for sample in family.samples:
            if (
                sample.name.endswith("_total")
                and sample.labels.get("job_type") == job_type
                and sample.labels.get("status") == status
            ):
                return float(sample.value)
    return 0.0


async def wait_processed(job_type: str, target: float, timeout_s: float, every_s: float = 0.001) -> float:
    """Poll the ack counter until it reaches `target`; the perf_counter time it did."""
    deadline = time.perf_counter() + timeout_s
    while (now := time.perf_counter()) < deadline:
        if processed(job_type) >= target:
            return now
        await asyncio.sleep(every_s)
    raise TimeoutError(
        f"{job_type}: {processed(job_type):.0f} of {target:.0f} jobs acknowledged within {timeout_s:.0f}s"
    )
