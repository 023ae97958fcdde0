"""The watch fan-out's change source, run as a child process of the bench (its own core and loop).

    python -m bench.changes_child SPEC.json   {"redis", "prefix", "ids", "rate", "rounds", "loop"}

It makes the transitions trading_svc's watchers see: it commits each
strategy's next step of the IDLE <-> ERROR cycle through `StrategyStore.commit`
(the Lua script every transition runs), `rate` times a second per strategy,
spread evenly (bench.pacing), then prints its pacing report as one JSON line.

It imports no grpc on purpose: grpcio 1.85's event-engine thread crashed (SIGSEGV
in cygrpc) in this process under load, while it used no gRPC at all.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bench.measure import run_delay_s
from bench.pacing import Due, pace
from bench.strategies import next_change
from queue_system.connection import connect
from service_kit.gc_tuning import settle_gc
from trading_svc.store import Stored, StrategyStore

# Commits in flight at once (the client's pool holds 100 connections; a late batch can hold thousands).
COMMITS_IN_FLIGHT = 64


async def changes(spec: dict[str, Any]) -> None:
    client: aioredis.Redis = connect(spec["redis"])
    store = StrategyStore(client, spec["prefix"])
    try:
        current: list[Stored] = []
        for sid in spec["ids"]:
            found = await store.get(sid)
            if found is None:
                raise SystemExit(f"changes: strategy {sid} not found")
            current.append(found)
        failed = 0

        async def commit(i: int) -> None:
            nonlocal failed
            before = current[i]
            after, transition = next_change(before)
            if await store.commit(before, after, transition=transition, awaiting=(), events=()):
                current[i] = Stored(after)
            else:
                failed += 1

        inflight = asyncio.Semaphore(COMMITS_IN_FLIGHT)

        async def commits(i: int, count: int) -> None:
            async with inflight:
                for _ in range(count):  # one after another: each reads the version the last one wrote
                    await commit(i)

        async def fire(due: Due) -> None:
            # a batch late by more than a round holds a strategy twice
            await asyncio.gather(*(commits(i, n) for i, n in Counter(i for i, _ in due).items()))

        settle_gc()  # its own full collections would hold commits stamped already
        cpu0, wait0 = time.process_time(), run_delay_s(os.getpid())
        report = await pace(len(current), float(spec["rate"]), int(spec["rounds"]), fire)
        say(
            {
                "pace": report.as_dict(),
                "failed_commits": failed,
                "cpu_s": time.process_time() - cpu0,
                "waited_s": run_delay_s(os.getpid()) - wait0,
            }
        )
    finally:
        await client.aclose()


def say(data: dict[str, Any]) -> None:
    """One JSON line on stdout: what the bench reads from its children."""
    print(json.dumps(data), flush=True)


def run_child(run: Any, spec: dict[str, Any]) -> None:
    """Run `run(spec)` on asyncio's loop, or uvloop's when the spec asks."""
    faulthandler.enable()  # a crash in a C extension under load says where, on stderr
    if spec.get("loop") == "uvloop":
        import uvloop  # noqa: PLC0415 (optional)

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(run(spec))
    else:
        asyncio.run(run(spec))


def main() -> None:
    run_child(changes, json.loads(Path(sys.argv[1]).read_text()))


if __name__ == "__main__":
    main()
