"""strategy-execution: one step of a strategy, within its riskLimits.

- `test`: the seed's dry run: every step, no order.
- `momentum` (momentum.py): Wilder's RSI over the venue's closes (or
  `parameters.closes`); buy while the trend is up and not stretched.
- `arbitrage` (arbitrage_execution.py): the best opportunity across
  `parameters.exchanges` at or above `parameters.minProfit` percent: buy on the
  cheaper venue, sell on the dearer.

Risk limits hold before any order (limits.py): the position limit,
maxPositionSize x maxLeverage, and maxLoss's worst-case rule; an order that would
breach either is refused and the refusal reported, never placed. Each order's
client order id derives from the job, and it carries the attempt's fencing token:
a job delivered again never orders twice, and a worker whose job was taken over
cannot order at all.
"""

from __future__ import annotations

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from queue_system.context import JobContext
from worker_trading.exchange import Exchange
from worker_trading.processors.arbitrage_execution import arbitrage
from worker_trading.processors.momentum import momentum


async def execute(
    job: tj.StrategyExecutionJob, ctx: JobContext, exchange: Exchange
) -> tr.StrategyExecutionResult:
    result = tr.StrategyExecutionResult(
        strategy_id=job.strategy_id, strategy_name=job.strategy_name, profit="0"
    )
    if job.strategy_name == "test":
        result.signal, result.dry_run = "hold", True
        result.refused = "dry run: the test strategy places no order"
    elif job.strategy_name == "momentum":
        await momentum(job, ctx, exchange, result)
    elif job.strategy_name == "arbitrage":
        await arbitrage(job, ctx, exchange, result)
    else:
        result.signal = "hold"
        result.refused = f"strategy {job.strategy_name!r} is not one this worker runs"
    return result
