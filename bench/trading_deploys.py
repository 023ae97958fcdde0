"""DeployStrategy over the wire, worker_trading running: deploys a second, and how soon a strategy moves.

Deploys alternate a `test` dry run and a `momentum` strategy with riskLimits,
over every exchange and symbol, each with a request_id (as a client that
retries sends them). A strategy's first state change is its transition out
of ANALYZING, which trading_svc commits once worker_trading has run its
risk-analysis job.

1. Bursts: `deploys` deploys at each client concurrency (that many calls in
   flight), timed from the first request to the last reply. Afterwards the
   first change of each is read from its history: deploy -> first change
   committed (the transition's `at` - the request's send time) under that
   burst, backlog included. The mesh settles (no strategy left at work)
   before the next burst; deploys / (burst + settling) is the rate at which
   strategies went all the way through (COMPLETED, or ERROR -> IDLE).
2. Paced: `latency_deploys` deploys at `latency_rate` a second; right after
   each reply a WatchStrategy is opened on the strategy, and its first change
   is timed twice: committed (as above) and seen (its receipt on the watch -
   the send time; when the snapshot already shows it moved, the snapshot's
   receipt, which is later than the change).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import grpc
from google.protobuf import json_format

from bench.measure import percentile
from bench.services import trading_stub
from jobmesh.trading.v1 import trading_service_pb2 as pb
from jobmesh.trading.v1 import trading_service_pb2_grpc as pb_grpc
from queue_system.catalog import EXCHANGES, SYMBOLS
from trading_svc import fsm
from trading_svc.fsm import state_enum, state_name

SETTLE_TIMEOUT_S: Final = 180.0
AT_WORK: Final = (fsm.ANALYZING, fsm.EXECUTING, fsm.MONITORING, fsm.STOPPING)
ANALYZING: Final = state_enum(fsm.ANALYZING)
NS_PER_MS: Final = 1_000_000
WARMUP_DEPLOYS: Final = 2 * len(EXCHANGES) * len(SYMBOLS)


def deploy_request(i: int, tag: str) -> pb.DeployStrategyRequest:
    """The i-th deploy: a dry run or a momentum strategy with riskLimits, on a market by turns."""
    body: dict[str, Any] = {
        "strategyName": "test" if i % 2 == 0 else "momentum",
        "exchange": EXCHANGES[i % len(EXCHANGES)],
        "symbol": SYMBOLS[(i // len(EXCHANGES)) % len(SYMBOLS)],
        "requestId": f"{tag}-{i}",
    }
    if body["strategyName"] == "momentum":
        body["riskLimits"] = {"maxPositionSize": 1000, "maxLoss": "100"}
        body["parameters"] = {"period": 14, "overbought": 70, "monitorChecks": 2, "monitorEverySeconds": 0.2}
    return json_format.ParseDict(body, pb.DeployStrategyRequest())


@dataclass(slots=True)
class Deployed:
    strategy_id: str
    sent_ns: int
    seen_ns: int = 0  # when a watcher learned of the first change (paced deploys only)
    changed_ns: int = 0  # the first change's `at`


@dataclass(slots=True)
class DeployBench:
    stub: pb_grpc.TradingServiceStub
    tag: str
    issued: int = 0
    deployed: list[Deployed] = field(default_factory=list)

    def _next(self) -> pb.DeployStrategyRequest:
        self.issued += 1
        return deploy_request(self.issued, self.tag)

    async def _deploy(self) -> Deployed:
        request = self._next()
        sent = time.time_ns()
        reply = await self.stub.DeployStrategy(request, timeout=60)
        d = Deployed(reply.strategy.strategy_id, sent)
        self.deployed.append(d)
        return d

    async def burst(self, n: int, inflight: int) -> tuple[float, list[Deployed]]:
        """`n` deploys with `inflight` calls at a time; deploys/s and what was deployed."""
        out: list[Deployed] = []
        left = iter(range(n))

        async def client() -> None:
            for _ in left:
                out.append(await self._deploy())

        t0 = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(inflight)))
        return n / (time.perf_counter() - t0), out

    async def _watch_first_change(self, d: Deployed) -> None:
        call = self.stub.WatchStrategy(pb.WatchStrategyRequest(strategy_id=d.strategy_id))
        try:
            async for msg in call:
                if msg.HasField("snapshot") and msg.snapshot.state != ANALYZING:
                    d.seen_ns = time.time_ns()
                    return
                if msg.HasField("transition") and msg.transition.from_state == ANALYZING:
                    d.seen_ns = time.time_ns()
                    return
        finally:
            call.cancel()

    async def paced(self, n: int, rate: float, timeout_s: float) -> list[Deployed]:
        """`n` deploys `1 / rate` s apart, each watched until its first change (at most `timeout_s`)."""
        out: list[Deployed] = []

        async def one() -> None:
            d = await self._deploy()
            out.append(d)
            try:
                async with asyncio.timeout(timeout_s):
                    await self._watch_first_change(d)
            except TimeoutError:
                pass

        tasks = []
        t0 = time.perf_counter()
        for i in range(n):
            await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        return out

    async def first_changes(self, deployed: Sequence[Deployed]) -> None:
        """Each one's first change's `at`, from its history (0 when it has not changed yet)."""
        for d in deployed:
            got = await self.stub.GetStrategyHistory(
                pb.GetStrategyHistoryRequest(strategy_id=d.strategy_id, page_size=5), timeout=30
            )
            for t in got.transitions:
                if t.from_state == ANALYZING:
                    d.changed_ns = t.at.seconds * 1_000_000_000 + t.at.nanos
                    break

    async def at_work(self) -> int:
        status = await self.stub.GetSystemStatus(pb.GetSystemStatusRequest(), timeout=30)
        return sum(c.count for c in status.strategies if state_name(c.state) in AT_WORK)

    async def settle(self, timeout_s: float = SETTLE_TIMEOUT_S) -> tuple[float, int]:
        """Wait until no strategy is at work; the seconds it took, and how many still were at the end."""
        t0 = time.perf_counter()
        left = await self.at_work()
        while left and time.perf_counter() - t0 < timeout_s:
            await asyncio.sleep(0.25)
            left = await self.at_work()
        return time.perf_counter() - t0, left


def _log(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


def _percentiles(values_ms: list[float], key: str) -> dict[str, float | None]:
    values_ms.sort()
    return {
        f"{key}_p50_ms": round(percentile(values_ms, 0.5), 3) if values_ms else None,
        f"{key}_p99_ms": round(percentile(values_ms, 0.99), 3) if values_ms else None,
    }


async def deploy_phase(
    address: str,
    tag: str,
    *,
    deploys: int,
    inflights: Sequence[int],
    latency_deploys: int,
    latency_rate: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {"bursts": [], "unchanged": 0, "left_at_work": 0}
    async with grpc.aio.insecure_channel(address) as channel:
        bench = DeployBench(trading_stub(channel), tag)
        await bench.burst(WARMUP_DEPLOYS, 4)  # warm-up: every kind on every market once
        await bench.settle()
        for inflight in inflights:
            _log(f"deploy: {deploys} DeployStrategy calls, {inflight} in flight")
            rate, burst = await bench.burst(deploys, inflight)
            settled_s, left = await bench.settle()
            through_s = deploys / rate + settled_s
            await bench.first_changes(burst)
            changed = [(d.changed_ns - d.sent_ns) / NS_PER_MS for d in burst if d.changed_ns]
            out["bursts"].append(
                {
                    "inflight": inflight,
                    "deploys": deploys,
                    "per_s": round(rate, 1),
                    "settle_s": round(settled_s, 2),
                    # first request -> every one of them finished (no strategy left at work)
                    "finished_per_s": round(deploys / through_s, 1),
                    **_percentiles(changed, "first_change"),
                }
            )
            out["unchanged"] += deploys - len(changed)
            out["left_at_work"] = max(out["left_at_work"], left)
        _log(f"deploy: {latency_deploys} deploys at {latency_rate:g}/s, each watched until it first moves")
        paced = await bench.paced(latency_deploys, latency_rate, timeout_s=SETTLE_TIMEOUT_S / 3)
        settled_s, left = await bench.settle()
        await bench.first_changes(paced)
        changed = [(d.changed_ns - d.sent_ns) / NS_PER_MS for d in paced if d.changed_ns]
        seen = [(d.seen_ns - d.sent_ns) / NS_PER_MS for d in paced if d.seen_ns]
        out.update(
            latency_deploys=latency_deploys,
            latency_rate=latency_rate,
            **_percentiles(changed, "first_change"),
            **_percentiles(seen, "first_change_seen"),
            unseen=latency_deploys - len(seen),
        )
        out["unchanged"] += latency_deploys - len(changed)
        out["left_at_work"] = max(out["left_at_work"], left)
        out["deployed"] = len(bench.deployed)
    return out
