"""strategy-execution's dispatch: the dry run orders nothing, an unknown strategy is refused in words."""

from __future__ import annotations

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from tests.worker_trading.processors.conftest import context
from worker_trading.paper_exchange import PaperExchange
from worker_trading.processors.strategy_execution import execute


def job(name: str) -> tj.StrategyExecutionJob:
    out = tj.StrategyExecutionJob(strategy_name=name, exchange="binance", symbol="BTC/USD", strategy_id="s")
    out.risk_limits.max_position_size.number_value = 1000
    out.risk_limits.max_loss.number_value = 100
    return out


async def test_the_test_strategy_is_a_dry_run(paper: PaperExchange) -> None:
    result = await execute(job("test"), context(), paper)
    assert (result.signal, result.dry_run, result.orders_placed, result.profit) == ("hold", True, 0, "0")
    assert result.refused == "dry run: the test strategy places no order"
    assert await paper.position("s", "binance", "BTC/USD") is None


async def test_a_strategy_this_worker_does_not_run_is_refused(paper: PaperExchange) -> None:
    result = await execute(job("mean-reversion"), context(), paper)
    assert result.signal == "hold" and result.orders_placed == 0
    assert result.refused == "strategy 'mean-reversion' is not one this worker runs"
