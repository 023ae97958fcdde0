"""The watch fan-out's baseline, run as a child process of the bench (its own core and loop).

    python -m bench.fanout_child bare SPEC.json      {"streams", "rate", "rounds", "loop"}

(The change source is bench.changes_child, which imports no grpc.) `bare` is
the baseline: a minimal grpc.aio server of the same RPC
(TradingService.WatchStrategy) that sends each stream a snapshot, then, once
`streams` streams are open, the same transitions at the same pace, stamped as
`changes` stamps them, from an asyncio.Queue per stream. No Redis, no
interceptors: what grpc.aio alone costs. It prints its port when it listens
and its pacing report when done, and serves until SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc

from bench.changes_child import run_child, say
from bench.pacing import Due, pace
from bench.strategies import Shape, next_change, record
from jobmesh.trading.v1 import trading_service_pb2 as pb
from jobmesh.trading.v1 import trading_service_pb2_grpc as pb_grpc
from queue_system.tokens import encode_token
from service_kit.gc_tuning import settle_gc
from trading_svc import fsm
from trading_svc.store import Stored


class BareWatch(pb_grpc.TradingServiceServicer):
    """WatchStrategy and nothing else: a snapshot, then whatever the pacer queues for the stream."""

    def __init__(self, streams: int) -> None:
        self.streams = streams
        self.ids: list[str] = []
        self.queues: list[asyncio.Queue[pb.WatchStrategyResponse]] = []
        self.snapshots: list[Stored] = []
        self.all_open = asyncio.Event()

    async def WatchStrategy(  # noqa: N802 (the RPC's name)
        self, request: pb.WatchStrategyRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[pb.WatchStrategyResponse]:
        queue: asyncio.Queue[pb.WatchStrategyResponse] = asyncio.Queue()
        s, _ = record(request.strategy_id, Shape(fsm.IDLE, "test", "binance", "BTC/USD"), 0)
        s.deployed_at.GetCurrentTime()
        self.ids.append(request.strategy_id)
        self.queues.append(queue)
        self.snapshots.append(Stored(s))
        yield pb.WatchStrategyResponse(resume_token=_token(request.strategy_id, s), snapshot=s)
        if len(self.queues) == self.streams:
            self.all_open.set()
        while True:
            yield await queue.get()

    async def fire(self, due: Due) -> None:
        for i, _ in due:
            after, transition = next_change(self.snapshots[i])
            self.snapshots[i] = Stored(after)
            msg = pb.WatchStrategyResponse(resume_token=_token(self.ids[i], after), transition=transition)
            self.queues[i].put_nowait(msg)


def _token(sid: str, s: Any) -> str:
    """A resume token of the size trading_svc's are (one stream position of a strategy)."""
    return encode_token({sid: f"{s.updated_at.ToMilliseconds()}-0"})


async def bare(spec: dict[str, Any]) -> None:
    servicer = BareWatch(int(spec["streams"]))
    server = grpc.aio.server()
    pb_grpc.add_TradingServiceServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    settle_gc()  # as every jobmesh service does once started (service_kit.server)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    say({"port": port})
    await servicer.all_open.wait()
    report = await pace(servicer.streams, float(spec["rate"]), int(spec["rounds"]), servicer.fire)
    say({"pace": report.as_dict(), "failed_commits": 0})
    await stop.wait()
    await server.stop(0)


def main() -> None:
    if sys.argv[1] != "bare":
        raise SystemExit(f"fanout_child: unknown role {sys.argv[1]!r} (changes: bench.changes_child)")
    run_child(bare, json.loads(Path(sys.argv[2]).read_text()))


if __name__ == "__main__":
    main()
