"""The `jobmesh` command line: `jobmesh up` runs the whole mesh on this machine."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mesh.supervisor import up
from service_kit.auth import ROLE_BY_NAME, credential_line, new_token


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
    run.add_argument(
        "--dev-tls", nargs="?", const="", default=None, metavar="DIR",
        help="serve gRPC over TLS with a development CA and certificates kept in DIR (default: "
        "$JOBMESH_DATA_DIR/dev-tls; made on first use), require a bearer token (an admin token is "
        "made there too), and print how grpcurl connects",
    )
    run.add_argument(
        "--mtls", action="store_true",
        help="with --dev-tls: also require a client certificate of the development CA from every client",
    )
    token = sub.add_parser(
        "token",
        help="make a bearer token and print it with its credentials-file entry",
        description="Print a new random token (give it to the caller; it is shown once) and the entry "
        "to add to JOBMESH_AUTH_TOKENS_FILE, which holds only the token's SHA-256.",
    )
    token.add_argument("name", help="who the token is for: the name the audit trail records")
    token.add_argument(
        "--roles", default="viewer", metavar="ROLE[,ROLE...]",
        help=f"roles of the token, from {', '.join(ROLE_BY_NAME)} (default: viewer)",
    )
    return p


def make_token(name: str, roles_text: str) -> int:
    """`jobmesh token`: the token on stdout (alone, so scripts can capture it), the entry on stderr."""
    roles = [r.strip().lower() for r in roles_text.split(",") if r.strip()]
    bad = [r for r in roles if r not in ROLE_BY_NAME]
    if not roles or bad or not name or any(c.isspace() or c in "#;" for c in name):
        known = ", ".join(ROLE_BY_NAME)
        print(f"jobmesh token: a name without spaces and roles from {known}", file=sys.stderr)
        return 2
    secret = new_token()
    print(secret)
    print(f"add to JOBMESH_AUTH_TOKENS_FILE:\n{credential_line(name, roles, secret)}", file=sys.stderr)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "up":
        dev_tls = None if args.dev_tls is None else (Path(args.dev_tls) if args.dev_tls else Path())
        raise SystemExit(up(timeout_s=args.timeout, dev_tls=dev_tls, mtls=args.mtls))
    if args.command == "token":
        raise SystemExit(make_token(args.name, args.roles))
