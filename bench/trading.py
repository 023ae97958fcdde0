"""`python -m bench trading`: trading_svc measured over gRPC, as its clients use it.

    python -m bench trading [--quick] [--phases list,deploy,watch] [--redis URL] [--prefix P]
                            [--strategies 10000] [--deploys 300] [--deploy-inflight 1,8,32]
                            [--streams 1000] [--change-rate 10] [--watch-seconds 10] [--rounds 3]
                            [--skip-baseline] [--profile] ...

trading_svc runs as a child process (`python -m trading_svc`, as an operator
starts it) on free ports and the bench's own QUEUE_PREFIX (`bench-<pid>`,
refused when it holds keys; every key under it is deleted afterwards);
worker_trading runs beside it (`python -m worker_trading`) for the deploy
phase only. Three phases (bench.trading_list, bench.trading_deploys,
bench.trading_watch, each says what it times):

- list: ListStrategies filtered pages with 10,000 strategies stored
  (target: p99 under 100 ms);
- deploy: DeployStrategy rate at a few client concurrencies, and
  deploy -> first state change latency;
- watch: 1,000 WatchStrategy streams at 10 changes/s each, every change
  checked, delivery latency beside a bare grpc.aio fan-out run in the same
  invocation (target: p99 within 50 ms). Rounds take turns going first
  (round 1 trading_svc, round 2 the baseline, ...); figures are medians.
  Each side also says how long its processes waited for a core and the
  load average: on a busy machine the latency measures the machine.

It prints a table, then one JSON line with every figure. A phase that fails
is reported as failed, with the reason, and the others still run.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import pstats
import statistics
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import redis.asyncio as aioredis

from bench.cli import _git
from bench.keyspace import delete_keys, refuse_used_prefix
from bench.profiling import CommandStat, commandstats
from bench.services import ServiceChild
from bench.trading_deploys import deploy_phase
from bench.trading_list import list_phase
from bench.trading_options import TradingOptions, parse
from bench.trading_report import TradingReport, flat
from bench.trading_watch import WatchPlan, watch_bare, watch_jobmesh
from queue_system.catalog import TRADING_QUEUES
from queue_system.connection import connect
from queue_system.settings import ConfigError, load, queue_env_stem, redact_url
from trading_svc.store import StrategyStore

# Fan-out figures that are counts of faults: summed over rounds, not their median.
# A fan-out whose server waited for a core longer than this share of the time ran on a busy machine.
BUSY_WAIT_PCT: Final = 10.0
FAULTS: Final = ("_missing", "_duplicates", "_out_of_order", "_stream_errors", "_failed_commits")


def merge_rounds(rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per figure, the median over the rounds that measured it; faults are summed instead (one in
    any round is one too many). A side that failed in a round has no figures from it."""
    merged: dict[str, Any] = {}
    for key in dict.fromkeys(k for r in rounds for k in r):
        values = [r[key] for r in rounds if isinstance(r.get(key), int | float)]
        if not values:
            merged[key] = next((r[key] for r in rounds if key in r), None)
        elif key.endswith(FAULTS):
            merged[key] = sum(values)
        else:
            merged[key] = statistics.median(values)
    return merged


def busy_notes(figures: Mapping[str, Any]) -> list[str]:
    """A note per side whose server waited for a core more than BUSY_WAIT_PCT of the time: its latency
    measured the machine's load as much as the fan-out."""
    notes = []
    for side, name in (("watch", "trading_svc"), ("bare", "the bare baseline")):
        waited = figures.get(f"{side}_server_wait_pct")
        if isinstance(waited, int | float) and waited > BUSY_WAIT_PCT:
            notes.append(
                f"watch: busy machine: {name}'s server waited for a core {waited:.0f}% of the time"
                f" (load average {figures.get(f'{side}_load_1m_start')}); its latency measures the machine"
            )
    return notes


def trading_env(opts: TradingOptions) -> dict[str, str]:
    """The environment of the bench's trading_svc and worker_trading: its Redis and prefix, the trading
    queues' rate limits off (the seed's allow 5 risk analyses a minute) and one concurrency for all."""
    env = {
        "REDIS_URL": opts.redis_url,
        "QUEUE_PREFIX": opts.prefix,
        "WORKER_TRADING_CONCURRENCY": str(opts.worker_concurrency),
        "LOG_LEVEL": "WARNING",
    }
    for queue in TRADING_QUEUES:
        env[f"{queue_env_stem(queue)}_RATE_LIMIT"] = "none"
    return env


def _log(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:400]


@dataclass(slots=True)
class TradingRun:
    figures: dict[str, Any] = field(default_factory=dict)
    list_rows: list[dict[str, Any]] = field(default_factory=list)
    bursts: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    per_round: list[dict[str, Any]] | None = None
    profile: str = ""
    redis_version: str = "?"


def _watch_figures(side: str, got: dict[str, Any]) -> dict[str, Any]:
    source = got.get("source", {}).get("pace", {})
    return flat(
        side,
        {
            "p50_ms": got["p50_ms"],
            "p99_ms": got["p99_ms"],
            "max_ms": got["max_ms"],
            "complete_streams": got["complete_streams"],
            "missing": got["missing"],
            "duplicates": got["duplicates"],
            "out_of_order": got["out_of_order"] + got["unexpected"],
            "stream_errors": got["stream_errors"],
            "first_error": got["first_error"],
            "open_s": got["open_s"],
            "source_rate": source.get("rate_per_s"),
            "source_lag_p99_ms": source.get("lag_p99_ms"),
            "server_cpu_pct": got.get("server_cpu_pct"),
            "client_cpu_pct": got.get("client_cpu_pct"),
            "source_cpu_pct": got.get("source_cpu_pct"),
            "server_cpu_us_per_msg": got.get("server_cpu_us_per_msg"),
            "client_cpu_us_per_msg": got.get("client_cpu_us_per_msg"),
            "source_cpu_us_per_msg": got.get("source_cpu_us_per_msg"),
            "server_wait_pct": got.get("server_wait_pct"),
            "client_wait_pct": got.get("client_wait_pct"),
            "source_wait_pct": got.get("source_wait_pct"),
            "load_1m_start": got.get("load_1m_start"),
            "load_1m_end": got.get("load_1m_end"),
            "after_commit_p50_ms": got.get("after_commit_p50_ms"),
            "after_commit_p99_ms": got.get("after_commit_p99_ms"),
            "failed_commits": got.get("source", {}).get("failed_commits", 0),
        },
    )


class TradingBench:
    def __init__(self, opts: TradingOptions) -> None:
        self.opts = opts
        self.env = trading_env(opts)
        self.client: aioredis.Redis = connect(opts.redis_url)
        self.store = StrategyStore(self.client, opts.prefix)
        self._svc: ServiceChild | None = None
        self.run = TradingRun()

    @property
    def svc(self) -> ServiceChild:
        if self._svc is None:
            self._svc = ServiceChild("trading_svc", self.env)
        return self._svc

    async def run_list(self) -> None:
        o = self.opts
        got = await list_phase(self.svc.address, self.store, o.strategies, o.list_calls, o.page_size)
        rows = got["filters"]
        self.run.list_rows = rows
        f = self.run.figures
        f["list_seed_s"] = got["seed_s"]
        for r in rows:
            f.update(flat(f"list_{r['key']}", {k: r[k] for k in ("p50_ms", "p99_ms", "max_ms")}))
        f["list_worst_p99_ms"] = max(r["p99_ms"] for r in rows)
        f["list_worst_filter"] = max(rows, key=lambda r: r["p99_ms"])["key"]
        if not all(r["right"] for r in rows):
            self.run.notes.append(
                "list: some filter's pages did not hold exactly its strategies: "
                + ", ".join(r["key"] for r in rows if not r["right"])
            )

    async def run_deploy(self) -> None:
        o = self.opts
        worker = ServiceChild("worker_trading", self.env)
        _log("deploy: starting worker_trading")
        await worker.start()
        try:
            got = await deploy_phase(
                self.svc.address,
                f"{o.prefix}-d",
                deploys=o.deploys,
                inflights=o.deploy_inflight,
                latency_deploys=o.latency_deploys,
                latency_rate=o.latency_rate,
            )
        finally:
            await worker.stop()
        self.run.bursts = got["bursts"]
        f = self.run.figures
        for b in got["bursts"]:
            f[f"deploy_c{b['inflight']}_per_s"] = b["per_s"]
            f[f"deploy_c{b['inflight']}_finished_per_s"] = b["finished_per_s"]
            f[f"deploy_c{b['inflight']}_first_change_p50_ms"] = b["first_change_p50_ms"]
            f[f"deploy_c{b['inflight']}_first_change_p99_ms"] = b["first_change_p99_ms"]
        for k in ("first_change_p50_ms", "first_change_p99_ms", "first_change_seen_p50_ms",
                  "first_change_seen_p99_ms", "unchanged", "unseen", "left_at_work"):  # fmt: skip
            f[f"deploy_{k}"] = got[k]

    def _plan(self) -> WatchPlan:
        o = self.opts
        return WatchPlan(
            streams=o.streams,
            strategies=o.streams // o.streams_per_strategy,
            rate=o.change_rate,
            seconds=o.watch_seconds,
            warmup_s=o.warmup_s,
            channels=o.channels,
            client_procs=o.client_procs,
            loop=o.loop,
        )

    async def run_watch(self) -> None:
        o, plan = self.opts, self._plan()
        rounds: list[dict[str, Any]] = []
        failed: dict[str, list[str]] = {}
        for r in range(o.rounds):
            sides = ["watch", "bare"] if r % 2 == 0 else ["bare", "watch"]
            if o.skip_baseline:
                sides = ["watch"]
            _log(f"watch: round {r + 1} of {o.rounds}: {' then '.join(sides)}")
            figures: dict[str, Any] = {}
            for side in sides:
                try:
                    if side == "watch":
                        got = await watch_jobmesh(plan, self.svc, self.store, o.redis_url, f"w{r}")
                    else:
                        got = await watch_bare(plan)
                    figures.update(_watch_figures(side, got))
                except Exception as exc:  # a fan-out that cannot even be opened is a figure too
                    failed.setdefault("watch" if side == "watch" else "watch baseline", []).append(
                        _failure(exc)
                    )
                    _log(f"watch: {side} failed: {_failure(exc)}")
            rounds.append(figures)
        for where, why in failed.items():
            self.run.failures[where] = f"{why[0]} (failed in {len(why)} of {o.rounds} rounds)"
        merged = merge_rounds(rounds)
        for side in ("watch", "bare"):
            if f"{side}_missing" in merged:
                counts = (merged[f"{side}_{k}"] for k in ("missing", "duplicates", "out_of_order"))
                merged[f"{side}_faults"] = " / ".join(map(str, counts))
        for q in ("p50", "p99"):
            mine, bare = merged.get(f"watch_{q}_ms"), merged.get(f"bare_{q}_ms")
            if isinstance(mine, int | float) and isinstance(bare, int | float) and bare:
                merged[f"watch_vs_bare_{q}"] = mine / bare
        self.run.figures.update(merged)
        self.run.per_round = rounds if o.rounds > 1 else None
        if merged.get("watch_failed_commits"):
            self.run.notes.append(
                f"watch: {merged['watch_failed_commits']} commits lost a version race (a source late by"
                " seconds leaves a strategy in ERROR long enough for trading_svc's sweep to reset it)"
            )
        self.run.notes += busy_notes(merged)
        if o.profile:
            await self.profile_watch(plan)

    async def profile_watch(self, plan: WatchPlan) -> None:
        """One more trading_svc fan-out round, trading_svc under cProfile; its profile, not a figure."""
        fd, stats_path = tempfile.mkstemp(prefix="bench-trading-svc-", suffix=".pstats")
        os.close(fd)
        svc = ServiceChild("trading_svc", self.env, argv=["-m", "bench.profiled", "trading_svc", stats_path])
        _log("watch: one more trading_svc round with trading_svc under cProfile (not a figure)")
        before: dict[str, tuple[int, int]] = {}
        try:
            await svc.start()
            before = await commandstats(self.client)
            got = await watch_jobmesh(plan, svc, self.store, self.opts.redis_url, "wp")
            summary = f"p50 {got['p50_ms']} ms, p99 {got['p99_ms']} ms with the profiler on"
        except Exception as exc:
            summary = f"failed: {_failure(exc)}"
        after = await commandstats(self.client)
        await svc.stop(timeout_s=120)  # under cProfile, on a busy machine, it may take a while
        self.run.profile = _profile_text(summary, before, after, stats_path, self.opts.profile_top)

    async def run_phases(self) -> TradingRun:
        admin = aioredis.Redis.from_url(self.opts.redis_url)
        try:
            try:
                await refuse_used_prefix(admin, self.opts.prefix)
            except SystemExit:
                await self.client.aclose()
                raise
            self.run.redis_version = str((await admin.info("server")).get("redis_version", "?"))
            try:
                _log(f"starting trading_svc on prefix {self.opts.prefix}")
                await self.svc.start()
                phases = {"list": self.run_list, "deploy": self.run_deploy, "watch": self.run_watch}
                for phase in self.opts.phases:
                    try:
                        await phases[phase]()
                    except Exception as exc:
                        self.run.failures[phase] = _failure(exc)
                        _log(f"{phase} failed: {_failure(exc)}")
            finally:
                with contextlib.suppress(Exception):
                    await self.svc.stop()
                deleted = await delete_keys(admin, self.opts.prefix)
                _log(f"deleted {deleted} key(s) under {self.opts.prefix}:")
                await self.client.aclose()
        finally:
            await admin.aclose()
        return self.run


def _profile_text(
    summary: str,
    before: dict[str, tuple[int, int]],
    after: dict[str, tuple[int, int]],
    stats_path: str,
    top: int,
) -> str:
    """The profiled round: Redis commands it caused, trading_svc's top functions; the stats file goes."""
    commands = [
        CommandStat(name, calls - before.get(name, (0, 0))[0], usec - before.get(name, (0, 0))[1])
        for name, (calls, usec) in after.items()
    ]
    commands = sorted((c for c in commands if c.calls > 0), key=lambda c: c.calls, reverse=True)[:12]
    lines = [
        f"== profile: trading_svc serving the fan-out under cProfile ({summary}) ==",
        "-- Redis commands in the round (INFO commandstats delta, every client of this Redis) --",
        *(f"  {c.name:<22}{c.calls:>10,} calls{c.usec:>12,} usec" for c in commands),
    ]
    buf = io.StringIO()
    try:
        pstats.Stats(stats_path, stream=buf).strip_dirs().sort_stats("tottime").print_stats(top)
        text = buf.getvalue()
        lines += ["-- trading_svc by own time --", text[text.find("   Ordered by") :].rstrip()]
    except (OSError, EOFError, TypeError) as exc:
        lines.append(f"(no profile written: {exc})")
    Path(stats_path).unlink(missing_ok=True)
    return "\n".join(lines)


def _meta(opts: TradingOptions, run: TradingRun) -> dict[str, Any]:
    keep = (
        "prefix", "loop", "quick", "strategies", "list_calls", "page_size", "deploys", "latency_deploys",
        "latency_rate", "worker_concurrency", "streams", "streams_per_strategy", "change_rate",
        "watch_seconds", "warmup_s", "channels", "client_procs", "rounds",
    )  # fmt: skip
    return {
        **{k: getattr(opts, k) for k in keep},
        "phases": list(opts.phases),
        "deploy_inflight": list(opts.deploy_inflight),
        "redis": redact_url(opts.redis_url),
        "redis_version": run.redis_version,
        "cpus": os.cpu_count(),
        "commit": _git("rev-parse", "--short", "HEAD") or "?",
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse(argv)
    try:
        load(trading_env(opts))
    except ConfigError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    if opts.loop == "uvloop":
        try:
            import uvloop  # noqa: PLC0415 (optional)
        except ImportError:
            opts = replace(opts, loop="asyncio")
    bench = TradingBench(opts)
    if opts.loop == "uvloop":
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            run = runner.run(bench.run_phases())
    else:
        run = asyncio.run(bench.run_phases())
    report = TradingReport(
        meta=_meta(opts, run),
        figures=run.figures,
        list_rows=run.list_rows,
        bursts=run.bursts,
        failures=run.failures,
        notes=run.notes,
        per_round=run.per_round,
        profile=run.profile,
    )
    print(report.table())
    print(report.json_line(), flush=True)
    return 1 if run.failures else 0
