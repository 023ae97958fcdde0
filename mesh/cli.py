"""The `jobmesh` command line: `jobmesh up` runs the whole mesh on this machine."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from mesh.supervisor import up


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="jobmesh", description="gRPC service mesh for trading and financial jobs."
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "up",
        help="start Redis (private, when REDIS_URL is unset) and all four services; Ctrl-C stops them",
        description="Start Redis (a private redis-server when REDIS_URL is unset) and the four services, "
        "wait until each is SERVING, print their addresses, and run until Ctrl-C or SIGTERM.",
    )
    run.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS",
        help="how long each service may take to report SERVING (default: 30)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "up":
        raise SystemExit(up(timeout_s=args.timeout))
