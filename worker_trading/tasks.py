"""worker-trading's tasks: the four trading queues' processors, declared on the service's broker.

Each task reads its job, runs its processor against the exchange (the
embedded paper exchange), announces the result on `trading:events`
(events.py: `<queue>_completed`) and returns its result message, which the
queue keeps with the job (QueueService.GetJob) and trading-svc's strategies
move on by. A job whose parameters are wrong is never retried (`throws=`):
the same parameters would fail the same way; the dead letter says why.
"""

from __future__ import annotations

from google.protobuf.message import Message

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from queue_system.broker import JobBroker
from queue_system.catalog import (
    ARBITRAGE_DETECTION,
    POSITION_MONITORING,
    RISK_ANALYSIS,
    STRATEGY_EXECUTION,
    TRADING_EVENTS_CHANNEL,
)
from queue_system.context import JobContext
from queue_system.events import event_json
from worker_trading import events
from worker_trading.exchange import Exchange, UnknownMarketError
from worker_trading.paper_exchange import PaperExchange
from worker_trading.processors.arbitrage_detection import detect
from worker_trading.processors.position_monitoring import monitor
from worker_trading.processors.risk_analysis import analyze
from worker_trading.processors.strategy_execution import execute

SERVICE = "worker-trading"
# What bad parameters raise: retrying cannot help.
BAD_INPUT = (ValueError, KeyError, UnknownMarketError)


def register_tasks(broker: JobBroker, exchange: Exchange | None = None) -> None:
    """Declare the four trading tasks on `broker`, trading on `exchange` (a paper exchange in the
    broker's Redis unless given)."""
    exchange = exchange or PaperExchange(broker.manager.client, broker.settings.queue_prefix)
    client = broker.manager.client

    async def announce(name: str, data: Message) -> None:
        await client.publish(TRADING_EVENTS_CHANNEL, event_json(SERVICE, name, data))

    @broker.task(queue=STRATEGY_EXECUTION, throws=BAD_INPUT)
    async def strategy_execution(job: tj.StrategyExecutionJob, ctx: JobContext) -> tr.StrategyExecutionResult:
        result = await execute(job, ctx, exchange)
        await announce(
            "strategy_execution_completed", events.strategy_execution_completed(result, ctx.job_id)
        )
        return result

    @broker.task(queue=ARBITRAGE_DETECTION, throws=BAD_INPUT)
    async def arbitrage_detection(
        job: tj.ArbitrageDetectionJob, ctx: JobContext
    ) -> tr.ArbitrageDetectionResult:
        result = await detect(job, exchange)
        await announce(
            "arbitrage_detection_completed", events.arbitrage_detection_completed(job, result, ctx.job_id)
        )
        return result

    @broker.task(queue=POSITION_MONITORING, throws=BAD_INPUT)
    async def position_monitoring(
        job: tj.PositionMonitoringJob, ctx: JobContext
    ) -> tr.PositionMonitoringResult:
        result = await monitor(job, ctx, exchange)
        await announce(
            "position_monitoring_completed", events.position_monitoring_completed(job, result, ctx.job_id)
        )
        return result

    @broker.task(queue=RISK_ANALYSIS, throws=BAD_INPUT)
    async def risk_analysis(job: tj.RiskAnalysisJob, ctx: JobContext) -> tr.RiskAnalysisResult:
        result = await analyze(job, exchange)
        await announce("risk_analysis_completed", events.risk_analysis_completed(job, result, ctx.job_id))
        return result
