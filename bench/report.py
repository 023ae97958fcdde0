"""The printed table (jobmesh beside BullMQ and the Redis floor, with ratios) and the JSON line.

Each jobmesh figure is set beside the BullMQ figure that measures the same
thing over the same window (`Row.bullmq_key`), never a neighbour of it. Drains
are timed on both sides from the first handler start to the last *finish*
(jobmesh: the N-th acknowledgement; BullMQ's bench: `drain_to_last_completed_jobs_s`,
the N-th `completed` event, emitted once the job is marked completed in Redis).
BullMQ's own `drain_jobs_s` is a first-start-to-last-start window: it is set
beside jobmesh's "start window" row only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from bench.backlog import summary as backlog_summary
from bench.backlog import table as backlog_table

# Every figure the JSON line must carry for jobmesh (all positive numbers).
JOBMESH_FIGURES: Final = (
    "bulk_enqueue_jobs_s",
    "drain_jobs_s",
    "drain_start_window_jobs_s",
    "mixed_jobs_s",
    "mixed_producer_jobs_s",
    "latency_p50_ms",
    "latency_p99_ms",
    "worker_rss_mb",
    "rss_peak_mb",
    "probe_bulk_enqueue_jobs_s",
    "probe_drain_jobs_s",
    "public_kiq_enqueue_jobs_s",
    "public_drain_jobs_s",
)

# BullMQ's bench's figures, by window (see ../shared/bench/bullmq/bullmq_bench.js).
BULLMQ_DRAIN_TO_FINISH: Final = "drain_to_last_completed_jobs_s"  # 1st start .. N-th completed
BULLMQ_DRAIN_START_WINDOW: Final = "drain_jobs_s"  # 1st start .. N-th start


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    key: str
    bullmq_key: str = ""  # the same figure, over the same window, in BullMQ's JSON line
    lower_is_better: bool = False
    floor_key: str = ""  # the raw Redis figure it is set against
    floor_label: str = ""


FLOOR_RATE = ("xadd_p16_rps", "XADD -P16")
ROWS: Final = (
    Row("bulk enqueue, jobs/s", "bulk_enqueue_jobs_s", "bulk_enqueue_jobs_s", False, *FLOOR_RATE),
    Row("drain, jobs/s (1st start..last finish)", "drain_jobs_s", BULLMQ_DRAIN_TO_FINISH, False, *FLOOR_RATE),
    Row(
        "  drain start window, jobs/s (1st..last start)",
        "drain_start_window_jobs_s",
        BULLMQ_DRAIN_START_WINDOW,
    ),
    Row("mixed producer+consumer, jobs/s (1st add..last finish)", "mixed_jobs_s", "", False, *FLOOR_RATE),
    Row("  producer side of mixed, jobs/s", "mixed_producer_jobs_s"),
    Row("latency p50, ms", "latency_p50_ms", "latency_p50_ms", True, "rtt_p50_ms", "PING RTT p50"),
    Row("latency p99, ms", "latency_p99_ms", "latency_p99_ms", True, "rtt_p99_ms", "PING RTT p99"),
    Row("worker peak RSS, MB (drain+latency)", "worker_rss_mb", "worker_rss_mb", True),
    Row("process peak RSS, MB (all phases)", "rss_peak_mb"),
    Row("probe bulk enqueue, jobs/s", "probe_bulk_enqueue_jobs_s", "bulk_enqueue_jobs_s", False, *FLOOR_RATE),
    Row(
        "probe drain, jobs/s (worker start..last finish)",
        "probe_drain_jobs_s",
        BULLMQ_DRAIN_TO_FINISH,
        False,
        *FLOOR_RATE,
    ),
    Row("public path: kiq enqueue jobs/s (1000 kiq() gathered)", "public_kiq_enqueue_jobs_s"),
    Row(
        "public path: drain jobs/s, results kept (1st start..last finish)",
        "public_drain_jobs_s",
        BULLMQ_DRAIN_TO_FINISH,
        False,
        *FLOOR_RATE,
    ),
)
LABEL_WIDTH: Final = max(len(r.label) for r in ROWS) + 2

WINDOWS: Final = (
    "windows: a drain runs from the 1st handler start to the last finish, on both sides: jobmesh = the N-th",
    "  ack in Redis (jobs_processed_total), BullMQ = the N-th 'completed' event (after moveToCompleted), its",
    f"  {BULLMQ_DRAIN_TO_FINISH}; the start window (1st..last handler start) is set beside BullMQ's",
    f"  {BULLMQ_DRAIN_START_WINDOW} only; probe drain starts at worker start (stricter than a 1st start)",
)
PUBLIC_PATH: Final = (
    "public path: a JobBroker task (@broker.task(queue=...)) sent by task.kiq(CategorizationJob),",
    "  1000 kiq() calls per asyncio.gather, no worker running; drained by JobReceiver(broker).start();",
    "  keep_results=True (JobBroker's default): one taskiq-redis result per job (<prefix>:result:<job id>),",
    "  written before the job's ack",
)


# (label, jobmesh's key, the bare grpc.aio server's key or "", jobmesh as % of bare: its key, or "")
GRPC_ROWS: Final = (
    ("gRPC EnqueueJobs x1000, jobs/s", "grpc_enqueue_jobs_batch_jobs_s", "", ""),
    (
        "gRPC EnqueueJob, RPC/s (1 in flight)",
        "grpc_enqueue_job_serial_rps", "grpc_bare_serial_rps", "grpc_serial_of_bare_pct",
    ),
    (
        "gRPC EnqueueJob, RPC/s ({inflight} in flight)",
        "grpc_enqueue_job_concurrent_rps", "grpc_bare_concurrent_rps", "grpc_concurrent_of_bare_pct",
    ),
    (
        "gRPC EnqueueJob p50, ms (1 in flight)",
        "grpc_enqueue_job_serial_p50_ms", "grpc_bare_serial_p50_ms", "",
    ),
    (
        "gRPC EnqueueJob p99, ms (1 in flight)",
        "grpc_enqueue_job_serial_p99_ms", "grpc_bare_serial_p99_ms", "",
    ),
    (
        "gRPC EnqueueJob, server CPU µs/RPC ({inflight} in flight)",
        "grpc_concurrent_server_cpu_us", "grpc_bare_concurrent_server_cpu_us", "",
    ),
    (
        "gRPC EnqueueJob, client CPU µs/RPC ({inflight} in flight)",
        "grpc_concurrent_client_cpu_us", "grpc_bare_concurrent_client_cpu_us", "",
    ),
)


def rounded(key: str, value: Any) -> Any:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return value
    if key.endswith("_ms"):
        return round(float(value), 3)
    if key.endswith("_mb") or key.endswith("_pct"):
        return round(float(value), 1)
    return round(float(value))


def _num(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "-"
    v = float(value)
    return f"{v:,.0f}" if v >= 100 else f"{v:.3f}" if v < 10 else f"{v:.1f}"


def ratio(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float) and b:
        return float(a) / float(b)
    return None


@dataclass(slots=True)
class Report:
    meta: dict[str, Any]
    figures: Mapping[str, float]
    cpu: Mapping[str, Mapping[str, float]]
    grpc: Mapping[str, float | str] | None
    bullmq: Mapping[str, Any] | None
    bullmq_skipped: str
    floor: Mapping[str, Any] | None
    floor_skipped: str
    notes: list[str]
    rounds: Mapping[str, Any] | None = None
    warnings: Mapping[str, int] | None = None
    backlog: list[dict[str, Any]] | None = None  # bench.backlog's rows
    fleet: Mapping[str, Any] | None = None  # bench.fleet: 8 queues x 2 worker processes, delayed jobs

    def ratios(self) -> tuple[dict[str, float], dict[str, float]]:
        vs_bullmq, vs_floor = {}, {}
        for row in ROWS:
            mine = self.figures.get(row.key)
            if row.bullmq_key and self.bullmq and (r := ratio(mine, self.bullmq.get(row.bullmq_key))):
                vs_bullmq[row.key] = round(r, 3)
            if row.floor_key and self.floor and (r := ratio(mine, self.floor.get(row.floor_key))):
                vs_floor[row.key] = round(r, 3)
        return vs_bullmq, vs_floor

    def table(self) -> str:
        m = self.meta
        bull_name = f"BullMQ {self.bullmq.get('version', '')}" if self.bullmq else "BullMQ"
        lines = [
            f"jobmesh bench: N={m['n']}, concurrency {m['concurrency']}, {m['latency_jobs']} latency jobs, "
            f"{m['loop']}, {m['rounds']} round(s){' (medians)' if m['rounds'] > 1 else ''},"
            f" Redis {m['redis']} ({m['redis_version']}), {m['cpus']} CPUs, "
            f"commit {m['commit']}{' + uncommitted changes' if m['dirty'] else ''}",
            f"task job: CategorizationJob, envelope {m['envelope_bytes']['task']} B, validated on add, no-op "
            f"task; probe job: ProbeJob, envelope {m['envelope_bytes']['probe']} B, no handler",
            f"BullMQ: {'same run' if self.bullmq else 'not run: ' + self.bullmq_skipped}"
            f"{'; order by round: ' + ', '.join(m['order']) if self.bullmq and m.get('order') else ''}; "
            f"Redis floor: {'redis-benchmark, same run' if self.floor else 'not run: ' + self.floor_skipped}",
            "",
            *WINDOWS,
            *PUBLIC_PATH,
            "",
            f"{'figure':<{LABEL_WIDTH}}{'jobmesh':>10}{bull_name:>14}{'jm/BullMQ':>11}  {'':<10}"
            f"{'Redis floor':>22}{'jm/floor':>10}",
        ]
        vs_bullmq, vs_floor = self.ratios()
        for row in ROWS:
            mine = self.figures.get(row.key)
            bull = self.bullmq.get(row.bullmq_key) if self.bullmq and row.bullmq_key else None
            r = vs_bullmq.get(row.key)
            better = ""
            if r is not None:
                better = "lower=better" if row.lower_is_better else "higher=better"
            floor = self.floor.get(row.floor_key) if self.floor and row.floor_key else None
            floor_text = f"{row.floor_label} {_num(floor)}" if floor is not None else "-"
            rf = vs_floor.get(row.key)
            lines.append(
                f"{row.label:<{LABEL_WIDTH}}{_num(mine):>10}{_num(bull):>14}"
                f"{(f'{r:.2f}x' if r is not None else '-'):>11}  {better:<13}"
                f"{floor_text:>19}{(f'{rf:.3f}' if rf is not None else '-'):>10}"
            )
        if self.grpc is not None:
            g = self.grpc
            lines += [
                "",
                "gRPC: trading_svc's QueueService beside a bare grpc.aio server (a generic handler answering",
                "an empty message, no interceptors, no Redis), same client code, same requests, same run:",
                f"{'figure':<{LABEL_WIDTH}}{'jobmesh':>10}{'bare':>10}{'jm % of bare':>14}",
            ]
            for template, key, bare_key, pct_key in GRPC_ROWS:
                label = template.format(inflight=m.get("grpc_inflight", "N"))
                bare = _num(g.get(bare_key)) if bare_key else ""
                pct = g.get(pct_key) if pct_key else None
                pct_text = f"{pct:.0f}%" if isinstance(pct, int | float) else (pct or "")
                lines.append(f"{label:<{LABEL_WIDTH}}{_num(g.get(key)):>10}{bare:>10}{pct_text:>14}")
            load = g.get("grpc_load_avg", "?")
            lines.append(f"load average (1, 5, 15 min) as the gRPC figures began: {load}")
        last_round = " (last round)" if m["rounds"] > 1 else ""
        lines += ["", f"CPU by phase{last_round} (% of wall; 100 = one core):"]
        for phase, shares in self.cpu.items():
            lines.append(
                f"  {phase:<20} bench process {shares['bench_cpu_pct']:>6.1f}%   "
                f"redis-server {shares['redis_cpu_pct']:>6.1f}%"
            )
        if self.floor:
            lines.append(
                f"Redis floor: PING -P16 {_num(self.floor['ping_p16_rps'])}/s, SET -P16 "
                f"{_num(self.floor['set_p16_rps'])}/s, XADD -P16 {_num(self.floor['xadd_p16_rps'])}/s "
                "(50 clients); RTT = PING from 1 client, no pipeline"
            )
        if self.backlog is not None:
            lines += ["", backlog_table(self.backlog)]
        lines += [f"note: {n}" for n in self.notes]
        for template, count in (self.warnings or {}).items():
            lines.append(f"logged {count}x: {template}")
        return "\n".join(lines)

    def json_line(self) -> str:
        vs_bullmq, vs_floor = self.ratios()
        out: dict[str, Any] = {"system": "jobmesh", **self.meta}
        out.update({k: rounded(k, v) for k, v in self.figures.items()})
        if self.grpc is not None:
            out.update({k: rounded(k, v) for k, v in self.grpc.items()})
        out["cpu_pct"] = {p: dict(s) for p, s in self.cpu.items()}
        out["bullmq"] = dict(self.bullmq) if self.bullmq else None
        if self.bullmq_skipped:
            out["bullmq_skipped"] = self.bullmq_skipped
        out["redis_floor"] = dict(self.floor) if self.floor else None
        if self.floor_skipped:
            out["redis_floor_skipped"] = self.floor_skipped
        out["ratio_vs_bullmq"] = vs_bullmq
        # which BullMQ figure (same window) each ratio divides by
        out["bullmq_counterpart"] = {row.key: row.bullmq_key for row in ROWS if row.bullmq_key}
        out["ratio_vs_redis_floor"] = vs_floor
        out["notes"] = self.notes
        if self.backlog is not None:
            out["backlog"] = backlog_summary(self.backlog)
        if self.fleet is not None:
            out["fleet"] = dict(self.fleet)
        out["log_warnings"] = dict(self.warnings or {})
        if self.rounds is not None:
            out["per_round"] = {
                system: [{k: rounded(k, v) for k, v in figs.items()} for figs in runs]
                for system, runs in self.rounds.items()
            }
        return json.dumps(out, separators=(",", ":"))
