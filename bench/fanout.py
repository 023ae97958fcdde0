"""The watch fan-out's client side: many WatchStrategy streams at once, what each saw, how late.

The same client reads trading_svc's WatchStrategy and the bare grpc.aio
baseline's (bench.fanout_child `bare`), which serves the same RPC with the
same messages, so the two are read, checked and timed alike. Streams are
spread over a few channels, each its own HTTP/2 connection (a local
subchannel pool; grpc would otherwise share one connection between channels
of the same target).

Delivery latency = receipt (this process's clock) - the transition's `at`,
stamped by whoever made the change just before it committed it (the same
machine's clock). Each stream must see, after its snapshot, every change of
its strategy exactly once and in order: versions snapshot+1 .. snapshot+K.

It splits in two at the commit: a trading_svc resume token holds the history
entry's id, whose milliseconds are Redis's clock (the same machine's) when the
commit's XADD ran. `at` -> commit is the source's share (its own turn on a busy
CPU included), commit -> receipt the service's, gRPC's and the reader's. (The
bare baseline's tokens hold `at` itself: its split says nothing.)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import grpc

from bench.measure import percentile
from bench.services import trading_stub
from jobmesh.trading.v1 import trading_service_pb2 as pb
from queue_system.errors import InvalidArgumentError
from queue_system.tokens import decode_token
from service_kit.gc_tuning import settle_gc

OPEN_TIMEOUT_S: Final = 60.0
NS_PER_MS: Final = 1_000_000


@dataclass(slots=True)
class Seen:
    """What one stream saw: its snapshot's version, then each transition's version, `at` and receipt."""

    snapshot_version: int = -1
    versions: list[int] = field(default_factory=list)
    at_ns: list[int] = field(default_factory=list)
    got_ns: list[int] = field(default_factory=list)
    error: str = ""
    tokens: list[str] = field(default_factory=list)  # each transition's resume token


class Fanout:
    """`len(ids)` WatchStrategy streams (stream i on strategy ids[i]) over `channels` connections."""

    def __init__(self, address: str, ids: Sequence[str], channels: int) -> None:
        self.ids = list(ids)
        self.channels = [
            grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(max(1, min(channels, len(ids))))
        ]
        self.stubs = [trading_stub(c) for c in self.channels]
        self.seen = [Seen() for _ in ids]
        self.calls: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self._open = 0
        self._all_open = asyncio.Event()
        self._want = 0
        self._enough = 0
        self._all_enough = asyncio.Event()

    async def _read(self, i: int, call: Any) -> None:
        seen = self.seen[i]
        try:
            async for msg in call:
                now = time.time_ns()
                if msg.HasField("transition"):
                    t = msg.transition
                    seen.versions.append(t.version)
                    seen.at_ns.append(t.at.seconds * 1_000_000_000 + t.at.nanos)
                    seen.got_ns.append(now)
                    seen.tokens.append(msg.resume_token)
                    if len(seen.versions) == self._want:
                        self._enough += 1
                        if self._enough == len(self.seen):
                            self._all_enough.set()
                elif seen.snapshot_version < 0:
                    seen.snapshot_version = msg.snapshot.version
                    self._open += 1
                    if self._open == len(self.seen):
                        self._all_open.set()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                seen.error = f"{exc.code().name}: {exc.details()}"
        except asyncio.CancelledError:
            pass

    async def open(self, timeout_s: float = OPEN_TIMEOUT_S) -> float:
        """Open every stream and wait for every snapshot; the seconds that took."""
        t0 = time.perf_counter()
        for i, sid in enumerate(self.ids):
            call = self.stubs[i % len(self.stubs)].WatchStrategy(pb.WatchStrategyRequest(strategy_id=sid))
            self.calls.append(call)
            self.tasks.append(asyncio.create_task(self._read(i, call)))
        try:
            async with asyncio.timeout(timeout_s):
                await self._all_open.wait()
        except TimeoutError:
            errors = sorted({s.error for s in self.seen if s.error})
            raise RuntimeError(
                f"{self._open} of {len(self.seen)} watch streams opened within {timeout_s:.0f}s"
                + (f" (errors: {'; '.join(errors[:3])})" if errors else "")
            ) from None
        opened_s = time.perf_counter() - t0
        settle_gc()  # the reader's own full collections would show as delivery latency
        return opened_s

    def expect(self, count: int) -> None:
        """Each stream is done once it has seen `count` transitions."""
        self._want = count
        self._enough = sum(len(s.versions) >= count for s in self.seen)
        if self._enough == len(self.seen):
            self._all_enough.set()

    async def drain(self, drain_s: float) -> None:
        """Wait (at most `drain_s`) until every stream has what it expects, then a little more
        (duplicates would show)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(drain_s):
                await self._all_enough.wait()
        await asyncio.sleep(0.2)

    async def close(self) -> None:
        """End every stream and close the channels (again: nothing)."""
        for call in self.calls:
            call.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.calls.clear()
        self.tasks.clear()
        for channel in self.channels:
            await channel.close(None)
        self.channels.clear()


def summary(seen: Sequence[Seen], expected: int, warmup_s: float) -> dict[str, Any]:
    """Delivery figures over every stream; latencies of changes made after the first `warmup_s`."""
    ats = [s.at_ns[0] for s in seen if s.at_ns]
    cutoff = (min(ats) if ats else 0) + int(warmup_s * 1e9)
    lat: list[float] = []
    after_commit: list[float] = []  # receipt - the entry id's milliseconds (1 ms resolution)
    missing = duplicates = out_of_order = unexpected = complete = 0
    for s in seen:
        want = range(s.snapshot_version + 1, s.snapshot_version + 1 + expected)
        got = set(s.versions)
        missing += sum(v not in got for v in want)
        duplicates += len(s.versions) - len(got)
        unexpected += sum(v not in want for v in got)
        out_of_order += sum(b <= a for a, b in zip(s.versions, s.versions[1:], strict=False))
        complete += s.versions == list(want)
        for a, g, token in zip(s.at_ns, s.got_ns, s.tokens, strict=True):
            if a >= cutoff:
                lat.append((g - a) / NS_PER_MS)
                committed_ms = _committed_ms(token)
                if committed_ms is not None:
                    after_commit.append(g / NS_PER_MS - committed_ms)
    lat.sort()
    after_commit.sort()
    delivered = sum(len(s.versions) for s in seen)
    return {
        "streams": len(seen),
        "expected_per_stream": expected,
        "delivered": delivered,
        "complete_streams": complete,
        "missing": missing,
        "duplicates": duplicates,
        "out_of_order": out_of_order,
        "unexpected": unexpected,
        "stream_errors": sum(bool(s.error) for s in seen),
        "first_error": next((s.error for s in seen if s.error), ""),
        "timed": len(lat),
        "p50_ms": percentile(lat, 0.5) if lat else None,
        "p99_ms": percentile(lat, 0.99) if lat else None,
        "max_ms": lat[-1] if lat else None,
        "after_commit_p50_ms": percentile(after_commit, 0.5) if after_commit else None,
        "after_commit_p99_ms": percentile(after_commit, 0.99) if after_commit else None,
    }


def _committed_ms(token: str) -> int | None:
    """The milliseconds of the one stream entry id a resume token holds (None: not one such)."""
    try:
        positions = decode_token(token, "resume_token")
    except InvalidArgumentError:
        return None
    if len(positions) != 1:
        return None
    entry_id = str(next(iter(positions.values())))
    ms, _, _ = entry_id.partition("-")
    return int(ms) if ms.isdigit() else None
