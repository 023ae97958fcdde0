"""The watch fan-out: N WatchStrategy streams on one trading_svc, each change delivered how late.

1. `strategies` strategies are stored in IDLE (bench.strategies.seed); stream
   i watches strategy i % strategies (`streams / strategies` streams each).
2. Every stream is opened and its snapshot received before any change is made.
3. A child process (bench.fanout_child `changes`) commits each strategy's next
   transition `rate` times a second (so every stream sees `rate` changes a
   second), spread evenly over the strategies, for
   `warmup + seconds` seconds, through StrategyStore.commit on the same Redis.
4. Once it is done, each stream must have seen every change of its strategy
   exactly once and in order; latency (receipt - the transition's `at`) is
   taken over the changes made after the warm-up.

By default 10 streams watch each strategy (1,000 streams: 100 strategies,
1,000 commits/s, 10,000 messages/s): one Python process commits about 5,000
transitions/s at best on a busy 2-core machine, so 1,000 strategies changing
10 times a second (10,000 commits/s) would measure the source, not the
fan-out. `--streams-per-strategy 1` asks for that case all the same.

The baseline runs the same client against bench.fanout_child `bare` (the
same RPC from a bare grpc.aio servicer, the same messages at the same pace),
in the same invocation, so the ratio compares like with like.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bench.fanout import Fanout, summary
from bench.measure import process_cpu_s
from bench.services import ROOT, ServiceChild, python_env
from bench.strategies import Shape, seed
from trading_svc import fsm
from trading_svc.store import StrategyStore

CHILD_TIMEOUT_S = 60.0
# How long the streams may take, after the last change was made, to deliver what they have not yet.
DRAIN_S = 30.0


@dataclass(frozen=True, slots=True)
class WatchPlan:
    streams: int
    strategies: int
    rate: float  # changes a second per stream
    seconds: float  # timed
    warmup_s: float
    channels: int
    loop: str

    @property
    def rounds(self) -> int:
        return max(1, round(self.rate * (self.seconds + self.warmup_s)))


# How each child is started (the change source imports no grpc: see bench.changes_child).
CHILD_COMMAND: Final = {
    "changes": ("-m", "bench.changes_child"),
    "bare": ("-m", "bench.fanout_child", "bare"),
}


class Child:
    """A bench.fanout_child process: its spec in a JSON file, what it says in JSON lines on stdout."""

    def __init__(self, role: str, spec: dict[str, Any]) -> None:
        self.role = role
        fd, name = tempfile.mkstemp(prefix=f"bench-{role}-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(spec, f)
        self.spec_path = Path(name)
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, *CHILD_COMMAND[self.role], str(self.spec_path),
            cwd=ROOT, env=python_env({}), stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"fanout_child {self.role} not started")
        return self.proc.pid

    async def said(self, timeout_s: float) -> dict[str, Any]:
        """Its next JSON line."""
        assert self.proc is not None and self.proc.stdout is not None
        async with asyncio.timeout(timeout_s):
            line = await self.proc.stdout.readline()
        if not line:
            code = await self.proc.wait()
            raise RuntimeError(f"fanout_child {self.role} exited ({code}) without an answer")
        said: dict[str, Any] = json.loads(line)
        return said

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                async with asyncio.timeout(10):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.spec_path.unlink(missing_ok=True)


def _log(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


@dataclass(slots=True)
class CpuWindow:
    """CPU the fan-out's processes used from the first change to the last delivery (100 = one core)."""

    server_pid: int
    t0: float = 0.0
    server0: float = 0.0
    bench0: float = 0.0

    def start(self) -> None:
        self.t0, self.server0, self.bench0 = (
            time.perf_counter(),
            process_cpu_s(self.server_pid),
            time.process_time(),
        )

    def shares(self, source_cpu_s: float | None) -> dict[str, float]:
        wall = max(time.perf_counter() - self.t0, 1e-9)
        out = {
            "server_cpu_pct": round(100 * (process_cpu_s(self.server_pid) - self.server0) / wall, 1),
            "client_cpu_pct": round(100 * (time.process_time() - self.bench0) / wall, 1),
        }
        if source_cpu_s is not None:  # what it spent making the changes (it reports it)
            out["source_cpu_pct"] = round(100 * source_cpu_s / wall, 1)
        return out


async def _collect(
    plan: WatchPlan, fanout: Fanout, source: Child, cpu: CpuWindow, *, separate_source: bool
) -> dict[str, Any]:
    """Once the streams are open: the source makes every change, every stream gets them (or not)."""
    opened_s = await fanout.open()
    fanout.expect(plan.rounds)
    cpu.start()
    if separate_source:
        await source.start()
    said = await source.said(plan.seconds + plan.warmup_s + CHILD_TIMEOUT_S)
    await fanout.drain(DRAIN_S)
    shares = cpu.shares(float(said.get("cpu_s", 0.0)) if separate_source else None)
    out = summary(fanout.seen, plan.rounds, plan.warmup_s)
    out.update(source=said, open_s=round(opened_s, 3), **shares)
    return out


async def watch_jobmesh(
    plan: WatchPlan, server: ServiceChild, store: StrategyStore, redis_url: str, tag: str
) -> dict[str, Any]:
    _log(f"watch: storing {plan.strategies} strategies, opening {plan.streams} WatchStrategy streams")
    shapes = [Shape(fsm.IDLE, "test", "binance", "BTC/USD")] * plan.strategies
    ids = await seed(store, shapes, tag)
    spec = {
        "redis": redis_url,
        "prefix": store.keys.prefix,
        "ids": ids,
        "rate": plan.rate,  # per strategy: each of its streams sees every change
        "rounds": plan.rounds,
        "loop": plan.loop,
    }
    _log(
        f"watch: {plan.streams} streams x {plan.rate:g} changes/s for {plan.warmup_s:g}+{plan.seconds:g} s "
        "(changes committed by a child process through StrategyStore.commit)"
    )
    assert server.proc is not None
    fanout = Fanout(server.address, [ids[i % len(ids)] for i in range(plan.streams)], plan.channels)
    source = Child("changes", spec)
    try:
        return await _collect(plan, fanout, source, CpuWindow(server.proc.pid), separate_source=True)
    finally:
        await fanout.close()
        await source.stop()


async def watch_bare(plan: WatchPlan) -> dict[str, Any]:
    """The same fan-out from a bare grpc.aio servicer (one stream per 'strategy')."""
    _log(f"watch baseline: bare grpc.aio server, {plan.streams} streams x {plan.rate:g}/s")
    child = Child(
        "bare", {"streams": plan.streams, "rate": plan.rate, "rounds": plan.rounds, "loop": plan.loop}
    )
    await child.start()
    fanout: Fanout | None = None
    try:
        port = (await child.said(30.0))["port"]
        ids = [f"strategy_bare_{i:06d}" for i in range(plan.streams)]
        fanout = Fanout(f"127.0.0.1:{port}", ids, plan.channels)
        return await _collect(plan, fanout, child, CpuWindow(child.pid), separate_source=False)
    finally:
        if fanout is not None:
            await fanout.close()
        await child.stop()
