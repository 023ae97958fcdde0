"""What worker-trading announces on `trading:events` when a job of its queues completes.

One event per job, in the seed's shape (queue_system.events.event_json: service,
event, data, timestamp) and named as the seed names `strategy_execution_completed`:
`<queue>_completed`. Each event's data sums up the job's result message with the
job's id, so a subscriber has the figures without reading the job back.
"""

from __future__ import annotations

from jobmesh.events.v1 import trading_events_pb2 as te
from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr


def strategy_execution_completed(
    result: tr.StrategyExecutionResult, job_id: str
) -> te.StrategyExecutionCompleted:
    return te.StrategyExecutionCompleted(
        strategy_id=result.strategy_id,
        profit=result.profit,
        orders_placed=result.orders_placed,
        job_id=job_id,
        strategy_name=result.strategy_name,
        signal=result.signal,
        refused=result.refused,
    )


def arbitrage_detection_completed(
    job: tj.ArbitrageDetectionJob, result: tr.ArbitrageDetectionResult, job_id: str
) -> te.ArbitrageDetectionCompleted:
    return te.ArbitrageDetectionCompleted(
        symbol=result.symbol,
        exchange_pair=job.exchange_pair,
        opportunities=result.opportunities,
        job_id=job_id,
    )


def position_monitoring_completed(
    job: tj.PositionMonitoringJob, result: tr.PositionMonitoringResult, job_id: str
) -> te.PositionMonitoringCompleted:
    done = te.PositionMonitoringCompleted(
        position_id=result.position_id,
        exchange=job.exchange,
        symbol=job.symbol,
        monitoring_type=result.monitoring_type,
        triggered=result.triggered,
        closed=bool(result.close_order.id),
        realized_profit=result.realized_profit,
        price=result.price,
        level=result.level,
        job_id=job_id,
    )
    if result.close_order.id:
        done.close_order.CopyFrom(result.close_order)
    return done


def risk_analysis_completed(
    job: tj.RiskAnalysisJob, result: tr.RiskAnalysisResult, job_id: str
) -> te.RiskAnalysisCompleted:
    return te.RiskAnalysisCompleted(
        analysis_type=result.analysis_type,
        portfolio_id=job.scope.portfolio_id,
        value_at_risk=result.value_at_risk,
        expected_shortfall=result.expected_shortfall,
        confidence=result.confidence,
        horizon_days=result.horizon_days,
        method=result.method,
        portfolio_value=result.portfolio_value,
        figures=result.figures,
        job_id=job_id,
    )
