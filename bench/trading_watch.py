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

The streams are read in `--client-procs` processes (bench.fanout_client; 2 by
default, one a core here; 0 reads them in the bench process): one process
reading 10,000 messages a second spends about half a core in grpc.aio alone
and, on a machine shared with other work, gets one process's share of the
cores, so its own queue showed as delivery latency.

Where the time goes, per side: each process's CPU per message delivered, how
long its main thread waited for a core (schedstat run delay) and the load
average, and, for trading_svc, the latency after the commit (bench.fanout).
Every process of both sides settles its garbage collector once set up
(service_kit.gc_tuning), as trading_svc does: full collections of ~190,000
objects were ~100 ms pauses of every stream.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bench.fanout import OPEN_TIMEOUT_S, Fanout, Seen, summary
from bench.fanout_client import load
from bench.measure import process_cpu_s, run_delay_s
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
    client_procs: int = 0  # 0: the streams are read in the bench process itself

    @property
    def rounds(self) -> int:
        return max(1, round(self.rate * (self.seconds + self.warmup_s)))


# How each child is started (the change source imports no grpc: see bench.changes_child).
CHILD_COMMAND: Final = {
    "changes": ("-m", "bench.changes_child"),
    "bare": ("-m", "bench.fanout_child", "bare"),
    "client": ("-m", "bench.fanout_client"),
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
            cwd=ROOT, env=python_env({}), stdout=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.PIPE if self.role == "client" else asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"fanout_child {self.role} not started")
        return self.proc.pid

    async def tell(self, line: str) -> None:
        """One line on its stdin (only a client reads it)."""
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

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


class ClientProcs:
    """The streams read by `procs` bench.fanout_client processes (stream i in process i % procs),
    with `Fanout`'s interface; `seen` is filled once they have drained."""

    def __init__(self, plan: WatchPlan, address: str, ids: Sequence[str]) -> None:
        procs, channels = min(plan.client_procs, len(ids)), plan.channels  # none without a stream
        self.outs: list[Path] = []
        self.children: list[Child] = []
        self.count = len(ids)
        for p in range(procs):
            fd, out = tempfile.mkstemp(prefix="bench-client-", suffix=".json")
            os.close(fd)
            self.outs.append(Path(out))
            spec = {
                "address": address,
                "ids": list(ids[p::procs]),
                "channels": max(1, channels // procs),
                "rounds": plan.rounds,
                "loop": plan.loop,
                "out": out,
                "drain_s": DRAIN_S,
            }
            self.children.append(Child("client", spec))
        self.seen: list[Seen] = []

    @property
    def pids(self) -> list[int]:
        return [c.pid for c in self.children]

    async def open(self) -> float:
        """Start them, and wait until each has every snapshot: the slowest one's seconds to open."""
        await asyncio.gather(*(c.start() for c in self.children))
        said = await asyncio.gather(*(c.said(OPEN_TIMEOUT_S + CHILD_TIMEOUT_S) for c in self.children))
        return max(float(s["opened_s"]) for s in said)

    def expect(self, count: int) -> None:
        """Each was told the count in its spec."""

    async def drain(self, drain_s: float) -> None:
        """The source is done: each drains (as Fanout.drain), then says what its streams saw."""
        await asyncio.gather(*(c.tell("drain") for c in self.children))
        await asyncio.gather(*(c.said(drain_s + CHILD_TIMEOUT_S) for c in self.children))
        parts = [load(json.loads(out.read_text())) for out in self.outs]
        self.seen = [parts[i % len(parts)][i // len(parts)] for i in range(self.count)]

    async def close(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.children))
        for out in self.outs:
            out.unlink(missing_ok=True)


@dataclass(slots=True)
class CpuWindow:
    """What the fan-out's processes used from the first change to the last delivery: CPU (100 = one
    core; in microseconds per message delivered, which a busy machine bends least), and how long their
    main threads, where the event loops run, were ready to run but waited for a core (Linux schedstat's
    run delay): on a machine shared with other work, a figure that says whether the latency measured
    the fan-out or the machine."""

    pids: dict[str, list[int]]  # "server", "client" -> their processes
    t0: float = 0.0
    cpu0: dict[str, float] = field(default_factory=dict)
    wait0: dict[str, float] = field(default_factory=dict)
    load0: float = 0.0

    def _now(self) -> tuple[dict[str, float], dict[str, float]]:
        cpu = {who: sum(process_cpu_s(p) for p in pids) for who, pids in self.pids.items()}
        wait = {who: sum(run_delay_s(p) for p in pids) for who, pids in self.pids.items()}
        return cpu, wait

    def start(self) -> None:
        self.t0, self.load0 = time.perf_counter(), os.getloadavg()[0]
        self.cpu0, self.wait0 = self._now()

    def shares(self, source: dict[str, Any] | None, delivered: int) -> dict[str, float]:
        """`source`: what the change source said (its own CPU and wait), when it is a process apart."""
        wall = max(time.perf_counter() - self.t0, 1e-9)
        cpu, wait = self._now()
        spent = {
            who: (cpu[who] - self.cpu0[who], wait[who] - self.wait0[who], len(self.pids[who])) for who in cpu
        }
        if source is not None:
            spent["source"] = (float(source.get("cpu_s", 0.0)), float(source.get("waited_s", 0.0)), 1)
        out = {"load_1m_start": round(self.load0, 2), "load_1m_end": round(os.getloadavg()[0], 2)}
        for who, (cpu_s, waited_s, procs) in spent.items():
            out[f"{who}_cpu_pct"] = round(100 * cpu_s / wall, 1)
            out[f"{who}_cpu_us_per_msg"] = round(1e6 * cpu_s / max(delivered, 1), 1)
            out[f"{who}_wait_pct"] = round(100 * waited_s / wall / procs, 1)  # per process
        return out


Streams = Fanout | ClientProcs


def _streams(plan: WatchPlan, address: str, ids: Sequence[str]) -> Streams:
    if plan.client_procs == 0:
        return Fanout(address, ids, plan.channels)
    return ClientProcs(plan, address, ids)


async def _collect(
    plan: WatchPlan, fanout: Streams, source: Child, server_pid: int, *, separate_source: bool
) -> dict[str, Any]:
    """Once the streams are open: the source makes every change, every stream gets them (or not)."""
    opened_s = await fanout.open()
    fanout.expect(plan.rounds)
    clients = fanout.pids if isinstance(fanout, ClientProcs) else [os.getpid()]
    cpu = CpuWindow({"server": [server_pid], "client": clients})
    cpu.start()
    if separate_source:
        await source.start()
    said = await source.said(plan.seconds + plan.warmup_s + CHILD_TIMEOUT_S)
    await fanout.drain(DRAIN_S)
    out = summary(fanout.seen, plan.rounds, plan.warmup_s)
    shares = cpu.shares(said if separate_source else None, out["delivered"])
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
    fanout = _streams(plan, server.address, [ids[i % len(ids)] for i in range(plan.streams)])
    source = Child("changes", spec)
    try:
        return await _collect(plan, fanout, source, server.proc.pid, separate_source=True)
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
    fanout: Streams | None = None
    try:
        port = (await child.said(30.0))["port"]
        ids = [f"strategy_bare_{i:06d}" for i in range(plan.streams)]
        fanout = _streams(plan, f"127.0.0.1:{port}", ids)
        got = await _collect(plan, fanout, child, child.pid, separate_source=False)
        got.update(after_commit_p50_ms=None, after_commit_p99_ms=None)  # no commit: its tokens hold `at`
        return got
    finally:
        if fanout is not None:
            await fanout.close()
        await child.stop()
