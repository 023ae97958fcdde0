"""trading-svc killed with SIGKILL mid-strategy and started again: every strategy carries on from
where it was and finishes, and its history is intact (versions without a gap, each transition
starting where the one before ended, the last one ending in the state the strategy is in)."""

from __future__ import annotations

import itertools
import signal
import uuid
from collections.abc import Iterator

import pytest

from jobmesh.trading.v1 import strategy_pb2 as spb
from jobmesh.trading.v1 import trading_service_pb2 as pb
from jobmesh.trading.v1 import trading_service_pb2_grpc as pb_grpc
from jobmesh.worker.v1 import worker_service_pb2 as wpb
from jobmesh.worker.v1 import worker_service_pb2_grpc as wgrpc
from queue_system.catalog import RISK_ANALYSIS, TRADING_QUEUES
from queue_system.settings import queue_env_stem
from tests.service_processes import SPECS, ServiceProcess, eventually, wait_for

pytestmark = pytest.mark.slow

SEEN_WITHIN = 90.0
DRY_RUN = pb.DeployStrategyRequest(strategy_name="test", exchange="binance", symbol="BTC/USD")


class Mesh:
    """trading-svc and worker-trading as processes on one private prefix; trading-svc restartable."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.env = {
            "QUEUE_PREFIX": f"t{uuid.uuid4().hex[:10]}",
            **{f"{queue_env_stem(q)}_RATE_LIMIT": "none" for q in TRADING_QUEUES},
        }
        self.worker = ServiceProcess(SPECS["worker_trading"], redis_url, dict(self.env)).start()
        self.trading = self._trading()

    def _trading(self) -> ServiceProcess:
        svc = ServiceProcess(SPECS["trading_svc"], self.redis_url, dict(self.env)).start()
        wait_for([svc], "SERVING")
        return svc

    def kill_and_restart(self) -> None:
        assert self.trading.proc is not None
        self.trading.proc.send_signal(signal.SIGKILL)
        self.trading.proc.wait()
        self.trading.close()
        self.trading = self._trading()

    @property
    def stub(self) -> pb_grpc.TradingServiceStub:
        return pb_grpc.TradingServiceStub(self.trading.channel)

    def close(self) -> None:
        self.trading.close()
        self.worker.close()


@pytest.fixture
def mesh(redis_url: str) -> Iterator[Mesh]:
    m = Mesh(redis_url)
    try:
        wait_for([m.worker], "SERVING")
        yield m
    finally:
        m.close()


def assert_intact(stub: pb_grpc.TradingServiceStub, sid: str) -> list[str]:
    """The history replays to the strategy's state; the path it took."""
    strategy = stub.GetStrategy(pb.GetStrategyRequest(strategy_id=sid)).strategy
    history = list(stub.GetStrategyHistory(pb.GetStrategyHistoryRequest(strategy_id=sid)).transitions)
    assert [t.version for t in history] == list(range(1, len(history) + 1))
    assert history[0].from_state == spb.STRATEGY_STATE_IDLE
    for before, after in itertools.pairwise(history):
        assert after.from_state == before.to_state
    assert history[-1].to_state == strategy.state and history[-1].version == strategy.version
    states = [history[0].from_state] + [t.to_state for t in history]
    return [spb.StrategyState.Name(s) for s in states]


def finished(stub: pb_grpc.TradingServiceStub, ids: list[str]) -> None:
    def all_done() -> bool:
        states = [stub.GetStrategy(pb.GetStrategyRequest(strategy_id=s)).strategy.state for s in ids]
        return all(s == spb.STRATEGY_STATE_COMPLETED for s in states)

    try:
        eventually(all_done, within=SEEN_WITHIN)
    except AssertionError:
        left = {s: stub.GetStrategy(pb.GetStrategyRequest(strategy_id=s)).strategy for s in ids}
        raise AssertionError(
            "not all COMPLETED: "
            + ", ".join(f"{s} {spb.StrategyState.Name(x.state)} v{x.version}" for s, x in left.items())
        ) from None


FULL_PATH = [
    f"STRATEGY_STATE_{s}" for s in ("IDLE", "ANALYZING", "PREPARING", "EXECUTING", "MONITORING", "COMPLETED")
]


def test_strategies_waiting_on_jobs_finish_after_trading_svc_is_killed(mesh: Mesh) -> None:
    queues = wgrpc.WorkerServiceStub(mesh.worker.channel)
    queues.PauseQueues(wpb.PauseQueuesRequest(queues=[RISK_ANALYSIS]))
    ids = [mesh.stub.DeployStrategy(DRY_RUN).strategy.strategy_id for _ in range(5)]
    mesh.trading.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    mesh.trading.proc.wait()  # type: ignore[union-attr]
    # while it is down, the analyses run and complete: their events go unheard
    queues.ResumeQueues(wpb.ResumeQueuesRequest(queues=[RISK_ANALYSIS]))
    mesh.trading.close()
    mesh.trading = mesh._trading()
    finished(mesh.stub, ids)
    for sid in ids:
        assert assert_intact(mesh.stub, sid) == FULL_PATH


def test_strategies_moving_when_trading_svc_is_killed_finish_after_it_restarts(mesh: Mesh) -> None:
    ids = [mesh.stub.DeployStrategy(DRY_RUN).strategy.strategy_id for _ in range(10)]

    def some_moved() -> bool:
        history = mesh.stub.GetStrategyHistory(pb.GetStrategyHistoryRequest(strategy_id=ids[0]))
        return len(history.transitions) >= 2

    eventually(some_moved, within=SEEN_WITHIN)
    mesh.kill_and_restart()  # mid-way: some strategies are moving, some not yet
    finished(mesh.stub, ids)
    for sid in ids:
        assert assert_intact(mesh.stub, sid) == FULL_PATH
