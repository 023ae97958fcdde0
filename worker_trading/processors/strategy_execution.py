"""strategy-execution: one step of a strategy, within its riskLimits.

- `test`: the seed's dry run: every step, no order.
- `momentum`: Wilder's RSI (period `parameters.period`, 14) over the venue's
  closes; at 50 or above and below overbought (70) the trend is up and not
  stretched: buy; otherwise hold.
- `arbitrage`: the best opportunity across `parameters.exchanges` at or above
  `parameters.minProfit` percent: buy on the cheaper venue, sell on the dearer.

Risk limits hold before any order: the position (what is held plus the new
order, at the price now) must stay within maxPositionSize x maxLeverage (1
when unset); an order that would breach it is refused and the refusal
reported, not placed. Each order's client order id derives from the job, and
it carries the attempt's fencing token: a job delivered again never orders
twice, and a worker whose job was taken over cannot order at all.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Final

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from queue_system.context import JobContext
from queue_system.decimals import amount_of
from worker_trading.exchange import Exchange, Fence, OrderRefusedError
from worker_trading.indicators import DEFAULT_OVERBOUGHT, rsi
from worker_trading.order_book import Side, symbol_spec
from worker_trading.processors.inputs import decimal, figures, params
from worker_trading.processors.orders import order_message

CLOSES: Final = 100


def _limit(job: tj.StrategyExecutionJob) -> Decimal:
    """The largest position, in quote currency: maxPositionSize x maxLeverage (1 when unset)."""
    limits = job.risk_limits
    leverage = amount_of(limits.max_leverage) if limits.HasField("max_leverage") else Decimal(1)
    return amount_of(limits.max_position_size) * leverage


async def execute(
    job: tj.StrategyExecutionJob, ctx: JobContext, exchange: Exchange
) -> tr.StrategyExecutionResult:
    result = tr.StrategyExecutionResult(
        strategy_id=job.strategy_id, strategy_name=job.strategy_name, profit="0"
    )
    if job.strategy_name == "test":
        result.signal, result.dry_run = "hold", True
        result.refused = "dry run: the test strategy places no order"
        return result
    if job.strategy_name == "momentum":
        await _momentum(job, ctx, exchange, result)
    else:
        result.signal = "hold"
        result.refused = f"strategy {job.strategy_name!r} is not one this worker runs"
    return result


async def _momentum(
    job: tj.StrategyExecutionJob, ctx: JobContext, exchange: Exchange, result: tr.StrategyExecutionResult
) -> None:
    p = params(job.parameters)
    period = int(p.get("period", 14))
    closes = [c.close for c in await exchange.candles(job.exchange, job.symbol, CLOSES)]
    values = rsi(closes, period)
    last = values[-1]
    assert last is not None  # CLOSES > period + 1
    overbought = float(p.get("overbought", DEFAULT_OVERBOUGHT))
    result.signal = "buy" if 50 <= last < overbought else "hold"
    result.figures.CopyFrom(
        figures(rsi=last, period=period, closes=closes[-period - 1 :], overbought=overbought)
    )
    if result.signal != "buy":
        return
    price = await exchange.last_price(job.exchange, job.symbol)
    account = job.strategy_id or ctx.job_id
    held = await exchange.position(account, job.exchange, job.symbol)
    held_value = held.contracts * price if held is not None else Decimal(0)
    limit = _limit(job)
    wanted = decimal(p["amount"], "amount") if "amount" in p else (limit - held_value) / price
    amount = wanted.quantize(symbol_spec(job.symbol).amount_step, rounding=ROUND_DOWN)
    if amount <= 0 or held_value + amount * price > limit:
        result.refused = (
            f"an order of {amount} {job.symbol} at {price} would hold {held_value + amount * price:.2f}, "
            f"over maxPositionSize x maxLeverage = {limit}"
        )
        return
    try:
        order = await exchange.create_order(
            job.exchange,
            job.symbol,
            Side.BUY,
            amount,
            account=account,
            client_order_id=f"{ctx.job_id}-buy",
            fence=Fence(ctx.job_id, ctx.fencing_token),
        )
    except OrderRefusedError as exc:
        result.refused = str(exc)
        return
    result.orders.append(order_message(order, job.exchange))
    result.orders_placed = 1
    position = await exchange.position(account, job.exchange, job.symbol)
    if position is not None:
        result.position_exchange, result.position_symbol = job.exchange, job.symbol
        result.position_amount, result.entry_price = str(position.contracts), str(position.entryPrice)
