"""strategy-execution's `momentum`: buy while Wilder's RSI says the trend is up and not stretched.

The RSI (TA-Lib's, period `parameters.period`, 14) is read over `parameters.closes`
when the job feeds them, else over the venue's latest closes. At 50 or above and
below overbought (`parameters.overbought`, 70) the trend is up and not stretched:
buy; otherwise hold. The order is `parameters.amount` when given, else the largest
the riskLimits leave room for (limits.py), valued at the venue's price now and
rounded down to the symbol's amount step; one that would breach a limit is refused
and the refusal reported, never placed. The account is the strategy's
(`strategy_id`, else the job's id). A job delivered again whose order an earlier
delivery placed (`{job_id}-buy`) reports that order and decides nothing anew:
the position it bought must not shrink the room it was sized in.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from queue_system.context import JobContext
from queue_system.failpoints import failpoint
from worker_trading.exchange import Exchange, Fence, Order, OrderRefusedError
from worker_trading.indicators import DEFAULT_OVERBOUGHT, DEFAULT_PERIOD, rsi
from worker_trading.order_book import EXACT, QUOTIENT, Side, exchange_spec, symbol_spec
from worker_trading.processors.inputs import decimal, decimals, figures, params
from worker_trading.processors.inputs import shown as plain
from worker_trading.processors.limits import floor_to, limits_of
from worker_trading.processors.orders import order_message

CLOSES: Final = 100  # of the venue's, when the job feeds none


async def momentum(
    job: tj.StrategyExecutionJob, ctx: JobContext, exchange: Exchange, result: tr.StrategyExecutionResult
) -> None:
    p = params(job.parameters)
    account, client_order_id = job.strategy_id or ctx.job_id, f"{ctx.job_id}-buy"
    placed = await exchange.fetch_order(job.exchange, client_order_id, account=account)
    if placed is not None:
        result.signal = "buy"
        result.figures.CopyFrom(figures(resumed=f"{client_order_id} was placed by an earlier delivery"))
        await _report(job, exchange, result, placed, account)
        return
    period = int(p.get("period", DEFAULT_PERIOD))
    if "closes" in p:
        closes, source = decimals(p["closes"], "closes"), "parameters.closes"
    else:
        closes = [c.close for c in await exchange.candles(job.exchange, job.symbol, CLOSES)]
        source = f"{job.exchange} candles"
    last = rsi(closes, period)[-1]
    assert last is not None  # rsi raises ValueError for fewer than period + 1 closes
    overbought = float(p.get("overbought", DEFAULT_OVERBOUGHT))
    result.signal = "buy" if 50 <= last < overbought else "hold"
    shown: dict[str, object] = {
        "rsi": last,
        "period": period,
        "overbought": overbought,
        "closes": closes[-period - 1 :],
        "closesFrom": source,
    }
    if result.signal != "buy":
        result.figures.CopyFrom(figures(**shown))
        return
    limits = limits_of(job, p)
    fee = exchange_spec(job.exchange).taker_fee
    price = await exchange.last_price(job.exchange, job.symbol)
    position = await exchange.position(account, job.exchange, job.symbol)
    held = EXACT.multiply(position.contracts, price) if position is not None else Decimal(0)
    by_position, by_loss = limits.room(held, fee)
    if "amount" in p:
        amount = decimal(p["amount"], "amount")
        if amount <= 0:
            raise ValueError(f"parameters.amount must be positive, got {amount}")
    else:
        amount = floor_to(
            QUOTIENT.divide(min(by_position, by_loss), price), symbol_spec(job.symbol).amount_step
        )
    notional = EXACT.multiply(amount, price)
    exposure = EXACT.add(held, notional)
    result.worst_case_loss = str(limits.worst_case_loss(exposure, notional, fee))
    result.figures.CopyFrom(
        figures(
            **shown,
            price=price,
            held=held,
            positionLimit=limits.position_limit,
            roomByPosition=by_position,
            roomByLoss=by_loss,
            stoploss=limits.stoploss,
            stopRule=limits.stop_rule,
            fee=fee,
            amount=amount,
            notional=notional,
            exposure=exposure,
        )
    )
    if amount <= 0:
        result.refused = (
            f"no room for a buy of {job.symbol} at {price}: holding {plain(held)}, the position limit "
            f"leaves {plain(by_position)} and maxLoss {plain(limits.max_loss)} leaves {plain(by_loss)} "
            "of notional"
        )
        return
    breach = limits.breach(exposure, notional, fee)
    if breach:
        result.refused = f"a buy of {plain(amount)} {job.symbol} at {price} refused: {breach}"
        return
    await failpoint("strategy-execution.before-order")
    try:
        order = await exchange.create_order(
            job.exchange,
            job.symbol,
            Side.BUY,
            amount,
            account=account,
            client_order_id=client_order_id,
            fence=Fence(ctx.job_id, ctx.fencing_token),
        )
    except OrderRefusedError as exc:
        result.refused = str(exc)
        return
    await failpoint("strategy-execution.after-order")
    await _report(job, exchange, result, order, account)


async def _report(
    job: tj.StrategyExecutionJob,
    exchange: Exchange,
    result: tr.StrategyExecutionResult,
    order: Order,
    account: str,
) -> None:
    """The order placed, and the position it leaves open for monitoring."""
    result.orders.append(order_message(order, job.exchange))
    result.orders_placed = 1
    after = await exchange.position(account, job.exchange, job.symbol)
    if after is not None and after.contracts > 0:
        result.position_exchange, result.position_symbol = job.exchange, job.symbol
        result.position_amount, result.entry_price = str(after.contracts), str(after.entryPrice)
