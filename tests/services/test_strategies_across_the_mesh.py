"""Strategies over the real mesh: the seed's own request bodies through grpcurl, and a momentum
strategy watched through every state while worker-trading (a process) runs its jobs.

The mesh runs the seed's queue limits (5 risk analyses a minute): these tests deploy fewer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from jobmesh.trading.v1 import strategy_pb2 as spb
from jobmesh.trading.v1 import trading_service_pb2 as pb
from jobmesh.trading.v1 import trading_service_pb2_grpc as pb_grpc
from jobmesh.worker.v1 import worker_service_pb2 as wpb
from jobmesh.worker.v1 import worker_service_pb2_grpc as wgrpc
from queue_system.catalog import RISK_ANALYSIS
from tests.service_processes import ServiceProcess, eventually

GRPCURL = str(Path(sys.executable).with_name("grpcurl"))
SERVICE = "jobmesh.trading.v1.TradingService"
SEEN_WITHIN = 90.0
ENDED = (spb.STRATEGY_STATE_COMPLETED, spb.STRATEGY_STATE_IDLE)

# The seed's bodies, verbatim (README "Deploy Strategy", "Usage Examples", integration test).
SEED_MOMENTUM = """{
  "strategyName": "momentum",
  "exchange": "binance",
  "symbol": "BTC/USD",
  "parameters": {
    "timeframe": "1h",
    "indicator": "RSI"
  },
  "riskLimits": {
    "maxPositionSize": 1000,
    "maxLoss": 100
  }
}"""
SEED_ARBITRAGE = """{
    "strategyName": "arbitrage",
    "exchange": "binance",
    "symbol": "BTC/USD",
    "parameters": {
      "exchanges": ["binance", "coinbase"],
      "minProfit": 0.5
    },
    "riskLimits": {
      "maxPositionSize": 1000,
      "maxLoss": 100
    }
}"""
SEED_TEST = '{"strategyName":"test","exchange":"binance","symbol":"BTC/USD"}'
SEED_ID = re.compile(r"^strategy_\d{13}_[0-9a-z]{6}$")


def grpcurl(trading: ServiceProcess, method: str, body: str) -> dict[str, Any]:
    """Call `method` as a user does: grpcurl, the body as -d, the answer as JSON (grpcurl prints
    the proto field names: strategy_id; it reads both those and the JSON names: strategyId)."""
    done = subprocess.run(
        [GRPCURL, "-plaintext", "-d", body, trading.address, f"{SERVICE}/{method}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def stub(trading: ServiceProcess) -> pb_grpc.TradingServiceStub:
    return pb_grpc.TradingServiceStub(trading.channel)


def ended(trading: ServiceProcess, sid: str) -> spb.Strategy:
    got: list[spb.Strategy] = []

    def done() -> bool:
        got[:] = [stub(trading).GetStrategy(pb.GetStrategyRequest(strategy_id=sid)).strategy]
        return got[0].state in ENDED

    eventually(done, within=SEEN_WITHIN)
    return got[0]


def test_the_seed_bodies_work_verbatim(mesh_services: dict[str, ServiceProcess]) -> None:
    trading = mesh_services["trading_svc"]
    momentum = grpcurl(trading, "DeployStrategy", SEED_MOMENTUM)["strategy"]
    assert SEED_ID.match(momentum["strategy_id"]) and momentum["state"] == "STRATEGY_STATE_ANALYZING"
    assert momentum["risk_limits"] == {"max_position_size": 1000, "max_loss": 100}
    assert momentum["parameters"] == {"timeframe": "1h", "indicator": "RSI"}
    arbitrage = grpcurl(trading, "DeployStrategy", SEED_ARBITRAGE)["strategy"]
    assert SEED_ID.match(arbitrage["strategy_id"]) and arbitrage["strategy_name"] == "arbitrage"
    dry = grpcurl(trading, "DeployStrategy", SEED_TEST)["strategy"]
    assert SEED_ID.match(dry["strategy_id"])

    stopped = grpcurl(
        trading,
        "StopStrategy",
        json.dumps({"strategyId": arbitrage["strategy_id"], "reason": "User requested stop"}),
    )["strategy"]
    assert stopped["state"] in ("STRATEGY_STATE_STOPPING", "STRATEGY_STATE_COMPLETED")
    assert ended(trading, arbitrage["strategy_id"]).state == spb.STRATEGY_STATE_COMPLETED

    finished = ended(trading, dry["strategy_id"])
    assert finished.state == spb.STRATEGY_STATE_COMPLETED and finished.progress == 100
    status = grpcurl(trading, "GetStrategy", json.dumps({"strategyId": dry["strategy_id"]}))
    assert status["strategy"]["metadata"]["strategyName"] == "test"
    assert status["strategy"]["metadata"]["ordersPlaced"] == 0
    assert [t["to_state"] for t in status["recent_history"]][-1] == "STRATEGY_STATE_COMPLETED"

    everything = grpcurl(trading, "EmergencyStopAll", '{"reason":"end of the seed walkthrough"}')
    assert dry["strategy_id"] not in everything.get("stopped_strategy_ids", [])  # it had completed
    ended(trading, momentum["strategy_id"])


def test_a_momentum_strategy_is_watched_through_every_state(
    mesh_services: dict[str, ServiceProcess],
) -> None:
    trading, worker = mesh_services["trading_svc"], mesh_services["worker_trading"]
    queues = wgrpc.WorkerServiceStub(worker.channel)
    queues.PauseQueues(wpb.PauseQueuesRequest(queues=[RISK_ANALYSIS]))  # so the watch starts first
    try:
        body = json_format.Parse(SEED_MOMENTUM, pb.DeployStrategyRequest())
        deployed = stub(trading).DeployStrategy(body)
        sid = deployed.strategy.strategy_id
        watch = stub(trading).WatchStrategy(pb.WatchStrategyRequest(strategy_id=sid), timeout=SEEN_WITHIN)
        first = next(watch)
        assert first.WhichOneof("kind") == "snapshot"
        assert first.snapshot.state == spb.STRATEGY_STATE_ANALYZING
    finally:
        queues.ResumeQueues(wpb.ResumeQueuesRequest(queues=[RISK_ANALYSIS]))
    states, progress = [first.snapshot.state], [first.snapshot.progress]
    try:
        for r in watch:
            states.append(r.transition.to_state)
            progress.append(r.transition.progress)
            if r.transition.to_state in ENDED:
                break
    finally:
        watch.cancel()
    names = [spb.StrategyState.Name(s).removeprefix("STRATEGY_STATE_") for s in states]
    assert names == ["ANALYZING", "PREPARING", "EXECUTING", "MONITORING", "COMPLETED"]
    assert progress == sorted(progress) and progress[-1] == 100 and len(set(progress)) == len(progress)

    status = stub(trading).GetStrategy(pb.GetStrategyRequest(strategy_id=sid))
    meta = json_format.MessageToDict(status.strategy.metadata)
    # real figures from worker-trading: a buy and its time exit, or no order at all
    assert meta["signal"] in ("buy", "hold")
    assert meta["ordersPlaced"] == (2 if meta["signal"] == "buy" else 0)
    assert (meta["totalProfit"] != "0") == (meta["signal"] == "buy")
    assert status.strategy.HasField("updated_at") and len(status.recent_history) == 5
