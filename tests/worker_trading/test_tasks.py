"""The four trading tasks end to end: each job through its queue, run by the real tasks in-process
(JobBroker + JobReceiver), its result kept with the job and its completion announced on
`trading:events` in the seed's shape. The figures themselves are checked by hand in processors/;
here every result and event must carry them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis
from google.protobuf import json_format
from google.protobuf.message import Message

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from queue_system.broker import JobBroker
from queue_system.catalog import (
    ARBITRAGE_DETECTION,
    POSITION_MONITORING,
    RISK_ANALYSIS,
    STRATEGY_EXECUTION,
    TRADING_EVENTS_CHANNEL,
    TRADING_QUEUES,
)
from queue_system.receiver import JobReceiver
from queue_system.settings import Settings
from tests.queue_system.conftest import wait_until
from tests.worker_trading.processors.conftest import T0, Held
from tests.worker_trading.processors.test_arbitrage_detection import BOOKS, FEES
from tests.worker_trading.processors.test_momentum import BUY_CLOSES
from tests.worker_trading.processors.test_position_risk import hull_returns
from worker_trading.paper_exchange import PaperExchange
from worker_trading.tasks import register_tasks

WITHIN = 30.0


class Worker:
    """worker-trading's tasks on the test's prefix, and what they announce."""

    def __init__(self, broker: JobBroker, events: aioredis.client.PubSub) -> None:
        self.broker = broker
        self.events = events
        self.seen: list[dict[str, Any]] = []

    async def run(self, queue: str, job_id: str, payload: env.JobPayload, result: Message) -> None:
        """Enqueue, wait for the job to complete, unpack its result into `result`."""
        manager = self.broker.manager
        await manager.add_job(queue, payload, env.JobOptions(job_id=job_id))

        async def completed() -> bool:
            info = await manager.get_job(queue, job_id)
            assert info.state != env.JOB_STATE_FAILED, info.failed_reason
            return info.state == env.JOB_STATE_COMPLETED

        await wait_until(completed, within=WITHIN)
        assert (await manager.get_job(queue, job_id)).result.Unpack(result)

    async def event(self, name: str, job_id: str) -> dict[str, Any]:
        """The event `name` about `job_id` (the queue's lifecycle events name the job too)."""
        async with asyncio.timeout(WITHIN):
            while True:
                for seen in self.seen:
                    if seen["event"] == name and seen["data"].get("jobId") == job_id:
                        return seen
                message = await self.events.get_message(ignore_subscribe_messages=True, timeout=0.5)
                if message is not None:
                    self.seen.append(json.loads(message["data"]))


@pytest.fixture
async def worker(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis, queue_prefix: str
) -> AsyncIterator[Worker]:
    events = redis_client.pubsub()
    await events.subscribe(TRADING_EVENTS_CHANNEL)  # before any job runs: pub/sub keeps nothing
    broker = JobBroker(make_settings(), service="worker-trading", queues=TRADING_QUEUES)
    register_tasks(broker, PaperExchange(redis_client, queue_prefix, clock=Held(T0)))
    await broker.startup()
    receiver = JobReceiver(broker)
    await receiver.start()
    try:
        yield Worker(broker, events)
    finally:
        await receiver.stop(1)
        await broker.shutdown()
        await events.aclose()  # type: ignore[no-untyped-call]


def payload(**kind: Any) -> env.JobPayload:
    return json_format.ParseDict(kind, env.JobPayload())


async def test_a_strategy_step_then_its_exit_each_announced(worker: Worker) -> None:
    step = payload(
        strategyExecution={
            "strategyName": "momentum",
            "exchange": "binance",
            "symbol": "BTC/USD",
            "strategyId": "strategy_t",
            "parameters": {"closes": BUY_CLOSES},
            "riskLimits": {"maxPositionSize": 1000, "maxLoss": 100},
        }
    )
    ran = tr.StrategyExecutionResult()
    await worker.run(STRATEGY_EXECUTION, "exec-1", step, ran)
    assert (ran.signal, ran.orders_placed, ran.orders[0].client_order_id) == ("buy", 1, "exec-1-buy")
    event = await worker.event("strategy_execution_completed", "exec-1")
    assert event["service"] == "worker-trading"
    assert event["data"]["strategyId"] == "strategy_t" and event["data"]["ordersPlaced"] == 1
    assert (event["data"]["profit"], event["data"]["signal"]) == ("0", "buy")
    assert "timestamp" in event

    exit_now = payload(
        positionMonitoring={
            "positionId": "strategy_t",
            "exchange": "binance",
            "symbol": "BTC/USD",
            "monitoringType": "MONITORING_TYPE_RISK_CHECK",
            "parameters": {"exitNow": True},
        }
    )
    watched = tr.PositionMonitoringResult()
    await worker.run(POSITION_MONITORING, "watch-1", exit_now, watched)
    assert watched.triggered and watched.close_order.client_order_id == "watch-1-close"
    event = await worker.event("position_monitoring_completed", "watch-1")
    data = event["data"]
    assert (data["triggered"], data["closed"], data["positionId"]) == (True, True, "strategy_t")
    assert data["closeOrder"]["id"] == watched.close_order.id
    assert Decimal(data["realizedProfit"]) == Decimal(watched.realized_profit) < 0  # spread and two fees


async def test_an_arbitrage_scan_announces_its_opportunities(worker: Worker) -> None:
    scan = payload(
        arbitrageDetection={
            "exchangePair": ["binance", "kraken"],
            "symbol": "BTC/USD",
            "minProfitPercentage": 0.5,
            "parameters": {"orderBooks": BOOKS, "fees": FEES},
        }
    )
    found = tr.ArbitrageDetectionResult()
    await worker.run(ARBITRAGE_DETECTION, "arb-1", scan, found)
    event = await worker.event("arbitrage_detection_completed", "arb-1")
    assert event["data"]["exchangePair"] == ["binance", "kraken"]
    [o] = event["data"]["opportunities"]
    assert (o["buyExchange"], o["volume"], o["netProfit"]) == (
        "binance",
        "2.5",
        found.opportunities[0].net_profit,
    )


async def test_a_risk_analysis_announces_its_figures(worker: Worker) -> None:
    msft, att = hull_returns()
    analysis = payload(
        riskAnalysis={
            "analysisType": "ANALYSIS_TYPE_PORTFOLIO",
            "scope": {"timeframe": "1d", "portfolioId": "desk"},
            "parameters": {
                "holdings": [
                    {"name": "Microsoft", "value": 10_000_000, "returns": msft},
                    {"name": "AT&T", "value": 5_000_000, "returns": att},
                ],
                "method": "parametric",
                "horizonDays": 10,
            },
        }
    )
    result = tr.RiskAnalysisResult()
    await worker.run(RISK_ANALYSIS, "risk-1", analysis, result)
    assert float(result.value_at_risk) == pytest.approx(1_620_100, abs=50)  # Hull
    event = await worker.event("risk_analysis_completed", "risk-1")
    data = event["data"]
    assert (data["analysisType"], data["portfolioId"]) == ("ANALYSIS_TYPE_PORTFOLIO", "desk")
    assert (data["valueAtRisk"], data["method"], data["horizonDays"]) == (
        result.value_at_risk,
        "parametric",
        10,
    )
    assert data["figures"] == json_format.MessageToDict(result.figures)
    assert data["figures"]["diversificationBenefit"] == pytest.approx(219_000, abs=50)


async def test_bad_parameters_fail_at_once_with_the_reason(worker: Worker) -> None:
    bad = payload(
        riskAnalysis={
            "analysisType": "ANALYSIS_TYPE_MARKET",
            "scope": {"timeframe": "1d"},
            "parameters": {"closes": [1]},
        }
    )
    manager = worker.broker.manager
    await manager.add_job(RISK_ANALYSIS, bad, env.JobOptions(job_id="bad-1", attempts=3))

    async def failed() -> bool:
        return (await manager.get_job(RISK_ANALYSIS, "bad-1")).state == env.JOB_STATE_FAILED

    await wait_until(failed, within=WITHIN)
    info = await manager.get_job(RISK_ANALYSIS, "bad-1")
    assert "needs at least 2 returns" in info.failed_reason
    assert info.attempts_made == 1  # bad input is never retried
