"""position-monitoring: check a position against its thresholds, and close it when one fires.

monitoring_type decides the check: stop_loss (thresholds.stoploss, a fraction
below entry), take_profit (thresholds.takeProfit, above entry), trailing_stop
(freqtrade's, thresholds.stoploss and optional trailingStopPositive /
trailingStopPositiveOffset, walked along the price path), risk_check
(thresholds.maxLoss against the unrealized loss). The position is the
account's on the venue (position_id names the account, a strategy's id), or
`parameters.entryPrice` with `parameters.prices` to check a path fed in; a
fired check on a real position closes it with an order derived from the job.
`parameters.exitNow` closes the position whatever the check says: a time
exit (the strategy's last check) or a stop. A job delivered again whose close
an earlier delivery placed (`{job_id}-close`) reports that close, never "no
open position": the strategy must count the order its exit made.

An arbitrage watches only the leg it left open: `parameters.exitAmount` is
that leg's amount, the most a check weighs and an exit sells (the rest of the
account's position on that venue is not this strategy's to close), and
`parameters.flat` says both legs traded and nothing is open: nothing to watch.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from queue_system.context import JobContext
from queue_system.decimals import amount_of
from worker_trading.exchange import Exchange, Fence, Order
from worker_trading.order_book import Side
from worker_trading.processors.inputs import decimal, decimals, figures, params
from worker_trading.processors.orders import order_message
from worker_trading.stops import TrailingStop, stop_loss_price, take_profit_price, walk_trailing_stop

PATH: Final = 20  # candles of the venue's path a trailing stop walks


def _threshold(job: tj.PositionMonitoringJob, name: str, default: str | None = None) -> Decimal | None:
    if name in job.thresholds:
        return amount_of(job.thresholds[name])
    return Decimal(default) if default is not None else None


def _check(
    job: tj.PositionMonitoringJob, entry: Decimal, prices: list[Decimal], contracts: Decimal
) -> tuple[bool, Decimal, Decimal | None, dict[str, object]]:
    """(fired, the price it looked at, the level there, figures)."""
    last = prices[-1]
    kind = job.monitoring_type
    if kind == tj.MONITORING_TYPE_STOP_LOSS:
        level = stop_loss_price(entry, _threshold(job, "stoploss", "0.05") or 0)
        return last <= level, last, level, {}
    if kind == tj.MONITORING_TYPE_TAKE_PROFIT:
        level = take_profit_price(entry, _threshold(job, "takeProfit", "0.05") or 0)
        return last >= level, last, level, {}
    if kind == tj.MONITORING_TYPE_TRAILING_STOP:
        settings = TrailingStop.of(
            _threshold(job, "stoploss", "0.05") or 0,
            trailing_stop_positive=_threshold(job, "trailingStopPositive"),
            trailing_stop_positive_offset=_threshold(job, "trailingStopPositiveOffset", "0") or 0,
        )
        walk = walk_trailing_stop(entry, prices, settings)
        fired = walk.triggered_at is not None
        price = walk.trigger_price if walk.trigger_price is not None else last
        return (
            fired,
            price,
            walk.stops[-1] if walk.stops else walk.initial_stop,
            {"stops": list(walk.stops), "prices": prices},
        )
    max_loss = _threshold(job, "maxLoss")
    loss = (entry - last) * contracts
    return max_loss is not None and loss > max_loss, last, max_loss, {"unrealizedLoss": loss}


async def monitor(
    job: tj.PositionMonitoringJob, ctx: JobContext, exchange: Exchange
) -> tr.PositionMonitoringResult:
    p = params(job.parameters)
    result = tr.PositionMonitoringResult(position_id=job.position_id, monitoring_type=job.monitoring_type)
    if p.get("dryRun"):
        result.figures.update({"dryRun": True, "note": "a dry run holds no position"})
        return result
    if p.get("flat"):
        result.triggered = True  # nothing open to watch: the exit condition holds at once
        result.figures.update({"flat": True, "note": "both legs traded: no position is open"})
        return result
    if "prices" in p:  # a path fed in: check it, nothing to close
        prices = decimals(p["prices"], "prices")
        entry = decimal(p["entryPrice"], "entryPrice") if "entryPrice" in p else prices[0]
        fired, price, level, more = _check(job, entry, prices, Decimal(1))
        result.triggered, result.price, result.level = fired, str(price), str(level or "")
        result.figures.CopyFrom(figures(**more))
        return result
    close_id = f"{ctx.job_id}-close"
    closed_before = await exchange.fetch_order(job.exchange, close_id, account=job.position_id)
    if closed_before is not None:  # an earlier delivery closed it: report that, decide nothing anew
        result.triggered = True
        result.figures.update({"resumed": f"{close_id} was placed by an earlier delivery"})
        await _report_close(job, exchange, result, closed_before)
        return result
    position = await exchange.position(job.position_id, job.exchange, job.symbol)
    if position is None or position.contracts == 0:
        result.triggered = True  # nothing left to watch: the position is closed (or was never opened)
        result.figures.update({"note": "no open position"})
        return result
    path = [c.close for c in await exchange.candles(job.exchange, job.symbol, PATH)]
    path.append(await exchange.last_price(job.exchange, job.symbol))
    contracts = position.contracts
    if "exitAmount" in p:
        contracts = min(contracts, decimal(p["exitAmount"], "exitAmount"))
    fired, price, level, more = _check(job, position.entryPrice, path, contracts)
    result.price, result.level = str(price), str(level or "")
    exit_now = bool(p.get("exitNow"))
    exit_amount = contracts if "exitAmount" in p else None
    result.figures.CopyFrom(
        figures(**more, exit="exitNow" if exit_now and not fired else None, exitAmount=exit_amount)
    )
    if fired or exit_now:
        fence = Fence(ctx.job_id, ctx.fencing_token)
        if exit_amount is None:
            order = await exchange.close_position(
                job.position_id, job.exchange, job.symbol, client_order_id=close_id, fence=fence
            )
        else:
            order = await exchange.create_order(
                job.exchange, job.symbol, Side.SELL, exit_amount,
                account=job.position_id, client_order_id=close_id, fence=fence,
            )  # fmt: skip
        result.triggered = True
        if order is not None:
            await _report_close(job, exchange, result, order)
    return result


async def _report_close(
    job: tj.PositionMonitoringJob, exchange: Exchange, result: tr.PositionMonitoringResult, order: Order
) -> None:
    """The close order, and the profit the position has realized with it."""
    result.close_order.CopyFrom(order_message(order, job.exchange))
    closed = await exchange.position(job.position_id, job.exchange, job.symbol)
    result.realized_profit = str(closed.realizedPnl if closed is not None else 0)
