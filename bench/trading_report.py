"""The trading bench's table and JSON line: each phase's figures, the targets, met or missed.

Figures are flat keys in the JSON line (list_<filter>_p99_ms, deploy_c8_per_s,
watch_p99_ms, bare_p99_ms, ...); the table shows them by phase. The fan-out
figures are medians over rounds (every round's are in `per_round`), and the
ratio divides trading_svc's figure by the bare grpc.aio baseline's of the
same invocation. A phase that failed carries its reason instead of figures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

LIST_TARGET_P99_MS: Final = 100.0
WATCH_TARGET_P99_MS: Final = 50.0
# Figures every complete run carries (the smoke test checks them).
TRADING_FIGURES: Final = (
    "list_worst_p99_ms",
    "deploy_first_change_p50_ms",
    "deploy_first_change_p99_ms",
    "deploy_first_change_seen_p99_ms",
    "watch_p50_ms",
    "watch_p99_ms",
    "bare_p50_ms",
    "bare_p99_ms",
    "watch_vs_bare_p99",
)


def _num(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}{unit}"
    v = float(value)
    text = f"{v:,.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"
    return text + unit


def _rounded(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def verdict(value: Any, limit: float, *, strict: bool) -> str:
    if not isinstance(value, int | float):
        return "not measured"
    ok = value < limit if strict else value <= limit
    return "met" if ok else "MISSED"


@dataclass(slots=True)
class TradingReport:
    meta: dict[str, Any]
    figures: dict[str, Any]
    list_rows: list[dict[str, Any]] = field(default_factory=list)
    bursts: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    per_round: list[dict[str, Any]] | None = None
    profile: str = ""

    def targets(self) -> dict[str, str]:
        """Each target of the phases run: met, MISSED, or MISSED because the phase failed."""
        f = self.figures
        out = {}
        if "list" in self.meta["phases"]:
            out["list_p99_under_100ms"] = (
                "MISSED (the phase failed)"
                if "list" in self.failures
                else verdict(f.get("list_worst_p99_ms"), LIST_TARGET_P99_MS, strict=True)
            )
        if "watch" in self.meta["phases"]:
            out["watch_p99_within_50ms"] = (
                "MISSED (trading_svc's fan-out failed)"
                if "watch" in self.failures and not isinstance(f.get("watch_p99_ms"), int | float)
                else verdict(f.get("watch_p99_ms"), WATCH_TARGET_P99_MS, strict=False)
            )
        return out

    def _list_table(self) -> list[str]:
        m, f = self.meta, self.figures
        lines = [
            f"ListStrategies: {m['strategies']:,} strategies stored"
            f" (in {_num(f.get('list_seed_s'), ' s')}), page size {m['page_size']},"
            f" {m['list_calls']} calls per filter one at a time, walking the pages",
            f"  {'filter':<46}{'matches':>8}{'pages':>6}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
            f"  {'right':<6}p99 < {LIST_TARGET_P99_MS:.0f} ms",
        ]
        for r in self.list_rows:
            lines.append(
                f"  {r['label']:<46}{r['matches']:>8}{r['pages']:>6}{_num(r['p50_ms']):>9}"
                f"{_num(r['p99_ms']):>9}{_num(r['max_ms']):>9}  {'yes' if r['right'] else 'NO':<6}"
                f"{verdict(r['p99_ms'], LIST_TARGET_P99_MS, strict=True)}"
            )
        return lines

    def _deploy_table(self) -> list[str]:
        m, f = self.meta, self.figures
        lines = [
            "DeployStrategy: half `test` dry runs, half `momentum` with riskLimits, each with a request_id;"
            f" worker_trading running (concurrency {m['worker_concurrency']},"
            " trading queues' rate limits off)",
            "  first change = deploy -> its transition out of ANALYZING committed, backlog included;"
            " finished/s = deploys / (burst + settling)",
            f"  {'burst':<30}{'deploys/s':>10}{'finished/s':>11}{'first change p50 ms':>21}{'p99 ms':>9}"
            f"{'settled in':>12}",
        ]
        for b in self.bursts:
            lines.append(
                f"  {str(b['deploys']) + ' deploys, ' + str(b['inflight']) + ' in flight':<30}"
                f"{_num(b['per_s']):>10}{_num(b['finished_per_s']):>11}{_num(b['first_change_p50_ms']):>21}"
                f"{_num(b['first_change_p99_ms']):>9}{_num(b['settle_s'], ' s'):>12}"
            )
        lines += [
            f"  paced: {m['latency_deploys']} deploys at {m['latency_rate']:g}/s, each watched:"
            f" deploy->first change committed p50 {_num(f.get('deploy_first_change_p50_ms'), ' ms')},"
            f" p99 {_num(f.get('deploy_first_change_p99_ms'), ' ms')};"
            f" seen by its watcher p50 {_num(f.get('deploy_first_change_seen_p50_ms'), ' ms')},"
            f" p99 {_num(f.get('deploy_first_change_seen_p99_ms'), ' ms')}",
            f"  checks: {f.get('deploy_unchanged', '-')} strategies never left ANALYZING, "
            f"{f.get('deploy_unseen', '-')} first changes not seen by their watcher, "
            f"{f.get('deploy_left_at_work', '-')} left at work at the end",
        ]
        return lines

    def _watch_table(self) -> list[str]:
        m, f = self.meta, self.figures
        rounds = m["rounds"]
        per_strategy = m["streams_per_strategy"]
        lines = [
            f"WatchStrategy fan-out: {m['streams']} streams on one trading_svc ({per_strategy} per strategy),"
            f" {m['change_rate']:g} changes/s per stream ({m['streams'] * m['change_rate']:,.0f} messages/s),"
            f" {m['watch_seconds']:g} s timed after {m['warmup_s']:g} s,"
            f" {m['channels']} client connections"
            f" {_readers(m.get('client_procs', 0))}, {rounds} round(s){' (medians)' if rounds > 1 else ''}",
            "  changes: committed by a child process through StrategyStore.commit (IDLE<->ERROR);"
            " latency = receipt - the transition's `at`",
            "  baseline: the same client against a bare grpc.aio WatchStrategy servicer (child process)"
            " pushing the same messages at the same pace",
            f"  {'figure':<56}{'trading_svc':>14}{'bare grpc.aio':>15}{'ratio':>8}",
        ]

        def row(label: str, key: str, ratio_key: str = "") -> str:
            r = f.get(ratio_key) if ratio_key else None
            ratio = f"{r:.2f}x" if isinstance(r, int | float) else "-"
            return f"  {label:<56}{_num(f.get('watch_' + key)):>14}{_num(f.get('bare_' + key)):>15}{ratio:>8}"

        lines += [
            row("delivery latency p50, ms", "p50_ms", "watch_vs_bare_p50"),
            row(
                f"delivery latency p99, ms (target <= {WATCH_TARGET_P99_MS:.0f})",
                "p99_ms",
                "watch_vs_bare_p99",
            ),
            row("delivery latency max, ms", "max_ms"),
            row("  of it after the commit (entry id -> receipt) p50, ms", "after_commit_p50_ms"),
            row("  of it after the commit (entry id -> receipt) p99, ms", "after_commit_p99_ms"),
            row("streams that saw every change once, in order", "complete_streams"),
            row("changes missing / duplicated / out of order", "faults"),
            row("streams ended by an error", "stream_errors"),
            row("seconds to open every stream (snapshot received)", "open_s"),
            row("server process CPU, % of one core", "server_cpu_pct"),
            row("the streams' client CPU, % (all its processes)", "client_cpu_pct"),
            row("change source CPU, % (bare: in the server)", "source_cpu_pct"),
            row("server CPU per message delivered, us", "server_cpu_us_per_msg"),
            row("client CPU per message delivered, us", "client_cpu_us_per_msg"),
            row("change source CPU per message delivered, us", "source_cpu_us_per_msg"),
            row("server main thread waiting for a core, % of the time", "server_wait_pct"),
            row("client main threads waiting for a core, % (each)", "client_wait_pct"),
            row("change source waiting for a core, %", "source_wait_pct"),
            row("machine load average (1 min) at the first change", "load_1m_start"),
            row("machine load average (1 min) after the last delivery", "load_1m_end"),
            row("source rate, /s (trading_svc: commits; bare: messages)", "source_rate"),
            row("source lag p99, ms (late vs its schedule)", "source_lag_p99_ms"),
        ]
        for side, name in (("watch", "trading_svc"), ("bare", "bare grpc.aio")):
            if f.get(f"{side}_first_error"):
                lines.append(f"  first stream error ({name}): {f[side + '_first_error']}")
        return lines

    def table(self) -> str:
        m = self.meta
        lines = [
            f"jobmesh trading bench{' (quick)' if m['quick'] else ''}:"
            f" Redis {m['redis']} ({m['redis_version']}),"
            f" {m['cpus']} CPUs, {m['loop']}, commit {m['commit']}"
            f"{' + uncommitted changes' if m['dirty'] else ''}, prefix {m['prefix']}",
            "trading_svc and worker_trading run as child processes (python -m ...), on the bench's prefix",
        ]
        sections = {"list": self._list_table, "deploy": self._deploy_table, "watch": self._watch_table}
        for phase in m["phases"]:
            lines.append("")
            lines += [f"{k}: FAILED: {why}" for k, why in self.failures.items() if k.split()[0] == phase]
            if phase in self.failures and phase != "watch":  # the fan-out keeps its baseline's figures
                continue
            lines += sections[phase]()
        lines.append("")
        lines += [f"target {k}: {v}" for k, v in self.targets().items()]
        lines += [f"note: {n}" for n in self.notes]
        if self.profile:
            lines += ["", self.profile]
        return "\n".join(lines)

    def json_line(self) -> str:
        out: dict[str, Any] = {"system": "jobmesh-trading", **self.meta}
        out.update({k: _rounded(v) for k, v in self.figures.items()})
        out["list_filters"] = self.list_rows
        out["deploy_bursts"] = self.bursts
        out["targets"] = self.targets()
        out["failures"] = self.failures
        out["notes"] = self.notes
        if self.per_round is not None:
            out["per_round"] = self.per_round
        return json.dumps(out, separators=(",", ":"), default=str)


def flat(prefix: str, figures: Mapping[str, Any]) -> dict[str, Any]:
    """`figures` with `prefix_` in front of each key."""
    return {f"{prefix}_{k}": v for k, v in figures.items()}


def _readers(procs: int) -> str:
    return "read in the bench process" if not procs else f"read in {procs} client process(es)"
