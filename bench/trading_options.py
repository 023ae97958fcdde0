"""Command-line options of `python -m bench trading`: a full run by default, `--quick` for CI smoke."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any, Final

from bench.options import _positive, _prefix

PHASES: Final = ("list", "deploy", "watch")


@dataclass(frozen=True, slots=True)
class TradingOptions:
    """What one trading bench invocation measures, and where."""

    redis_url: str
    prefix: str
    loop: str
    phases: tuple[str, ...] = PHASES
    quick: bool = False
    # ListStrategies
    strategies: int = 10_000
    list_calls: int = 200
    page_size: int = 100
    # DeployStrategy
    deploys: int = 300
    deploy_inflight: tuple[int, ...] = (1, 8, 32)
    latency_deploys: int = 100
    latency_rate: float = 10.0
    worker_concurrency: int = 20
    # WatchStrategy fan-out
    streams: int = 1000
    streams_per_strategy: int = 10
    change_rate: float = 10.0
    watch_seconds: float = 10.0
    warmup_s: float = 2.0
    channels: int = 10
    client_procs: int = 2
    rounds: int = 3
    skip_baseline: bool = False
    profile: bool = False
    profile_top: int = 25


# What --quick changes (a CI smoke run of every phase, in well under a minute).
QUICK: Final[dict[str, Any]] = {
    "strategies": 1000,
    "list_calls": 20,
    "deploys": 20,
    "deploy_inflight": (1, 4),
    "latency_deploys": 10,
    "streams": 100,
    "watch_seconds": 2.0,
    "warmup_s": 0.5,
    "rounds": 1,
}


def _counts(raw: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in raw.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"comma-separated whole numbers, got {raw!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"comma-separated whole numbers of at least 1, got {raw!r}")
    return values


def _phases(raw: str) -> tuple[str, ...]:
    chosen = tuple(p.strip() for p in raw.split(",") if p.strip())
    bad = [p for p in chosen if p not in PHASES]
    if bad or not chosen:
        raise argparse.ArgumentTypeError(f"a comma-separated choice of {', '.join(PHASES)}, got {raw!r}")
    return tuple(p for p in PHASES if p in chosen)


def _whole(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number, got {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {raw}")
    return value


def _rate(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {raw}")
    return value


def parse(argv: Sequence[str] | None = None) -> TradingOptions:
    d = {f.name: f.default for f in fields(TradingOptions) if f.name not in ("redis_url", "prefix", "loop")}
    ap = argparse.ArgumentParser(
        prog="python -m bench trading",
        description="trading_svc over gRPC: ListStrategies pages, DeployStrategy rate and first-change "
        "latency, WatchStrategy fan-out beside a bare grpc.aio fan-out. Unset figures take the full "
        "run's values, or --quick's.",
    )
    ap.add_argument("--redis", default=os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
    ap.add_argument(
        "--prefix",
        type=_prefix,
        default=f"bench-{os.getpid()}",
        help="QUEUE_PREFIX of the bench's keys (default bench-<pid>); must hold no keys yet",
    )
    ap.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help="event loop (uvloop)")
    ap.add_argument("--quick", action="store_true", help=f"a short CI smoke run: {QUICK}")
    ap.add_argument("--phases", type=_phases, default=PHASES, help=f"which phases ({','.join(PHASES)})")
    n = ap.add_argument_group("ListStrategies")
    n.add_argument("--strategies", type=_positive, help=f"strategies stored ({d['strategies']})")
    n.add_argument("--list-calls", type=_positive, help=f"calls per filter ({d['list_calls']})")
    n.add_argument("--page-size", type=_positive, help=f"page size ({d['page_size']})")
    g = ap.add_argument_group("DeployStrategy")
    g.add_argument("--deploys", type=_positive, help=f"deploys per burst ({d['deploys']})")
    g.add_argument(
        "--deploy-inflight", type=_counts, help=f"calls in flight, one burst each ({d['deploy_inflight']})"
    )
    g.add_argument(
        "--latency-deploys", type=_positive, help=f"paced, watched deploys ({d['latency_deploys']})"
    )
    g.add_argument("--latency-rate", type=_rate, help=f"paced deploys a second ({d['latency_rate']:g})")
    g.add_argument(
        "--worker-concurrency",
        type=_positive,
        help=f"worker_trading's jobs at once ({d['worker_concurrency']})",
    )
    w = ap.add_argument_group("WatchStrategy fan-out")
    w.add_argument("--streams", type=_positive, help=f"concurrent WatchStrategy streams ({d['streams']})")
    w.add_argument(
        "--streams-per-strategy",
        type=_positive,
        help=f"streams watching each strategy ({d['streams_per_strategy']})",
    )
    w.add_argument("--change-rate", type=_rate, help=f"changes a second per stream ({d['change_rate']:g})")
    w.add_argument("--watch-seconds", type=_rate, help=f"timed seconds ({d['watch_seconds']:g})")
    w.add_argument("--warmup", type=float, dest="warmup_s", help=f"untimed seconds first ({d['warmup_s']:g})")
    w.add_argument(
        "--channels", type=_positive, help=f"client connections the streams share ({d['channels']})"
    )
    w.add_argument(
        "--client-procs",
        type=_whole,
        help="processes the streams are read in, each its share of the streams and connections "
        f"(0: the bench process itself) ({d['client_procs']})",
    )
    w.add_argument(
        "--rounds",
        type=_positive,
        help=f"rounds of trading_svc and the baseline, taking turns to go first; medians ({d['rounds']})",
    )
    w.add_argument("--skip-baseline", action="store_true", help="do not run the bare grpc.aio fan-out")
    w.add_argument(
        "--profile",
        action="store_true",
        help="run trading_svc under cProfile for the fan-out (not timed); print its top functions",
    )
    w.add_argument(
        "--profile-top", type=_positive, help=f"functions per profile listing ({d['profile_top']})"
    )
    a = vars(ap.parse_args(argv))
    chosen = {**d, **(QUICK if a["quick"] else {})}
    chosen.update({k: v for k, v in a.items() if k in d and v is not None and v is not False})
    if chosen["streams"] % chosen["streams_per_strategy"]:
        ap.error("--streams must be a multiple of --streams-per-strategy")
    return TradingOptions(redis_url=a["redis"], prefix=a["prefix"], loop=a["loop"], **chosen)
