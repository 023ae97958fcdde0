"""momentum against the field's RSI and riskLimits redone by hand, on a paper venue held still.

The RSI's known answers are StockCharts ChartSchool's worked example (TA-Lib's RSI):
its 15 closes read 70.53 (overbought: hold), its 16 read 66.32 (up, not stretched: buy).
Each order's size, cost and worst-case loss are computed here from the venue's book.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from tests.worker_trading.processors.conftest import context, walk
from tests.worker_trading.test_indicators import STOCKCHARTS_CLOSES
from worker_trading.exchange import Balance, Fence, FencedOffError
from worker_trading.order_book import Side
from worker_trading.paper_exchange import PaperExchange
from worker_trading.processors.strategy_execution import execute

D = Decimal
VENUE, PAIR, FEE = "binance", "BTC/USD", D("0.0010")
STEP = D("0.0001")
BUY_CLOSES = STOCKCHARTS_CLOSES[:16]  # RSI(14) 66.3186
HOLD_CLOSES = STOCKCHARTS_CLOSES[:15]  # RSI(14) 70.5328


def momentum(limits: dict[str, Any] | None = None, **parameters: Any) -> tj.StrategyExecutionJob:
    body = {
        "strategyName": "momentum",
        "exchange": VENUE,
        "symbol": PAIR,
        "strategyId": "strategy_m",
        "parameters": {"closes": BUY_CLOSES, **parameters},
        "riskLimits": limits or {"maxPositionSize": 1000, "maxLoss": 100},
    }
    return json_format.ParseDict(body, tj.StrategyExecutionJob())


def plain(struct: Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct)


def down(value: Decimal) -> Decimal:
    return value.quantize(STEP, rounding=ROUND_DOWN)


async def test_rsi_66_buys_the_most_max_loss_allows_and_reports_the_position(paper: PaperExchange) -> None:
    book = await paper.order_book(VENUE, PAIR)
    price = (book.best_bid.price + book.best_ask.price) / 2  # the venue's price now: its mid
    # stop 100 / 1000 = 0.1; worst case of a buy of N from flat: N x 0.1 + 2N x 0.001 <= 100
    room = D(100) / (D("0.1") + 2 * FEE)  # 980.39 < maxPositionSize 1000: maxLoss binds
    amount = down(room / price)
    _, cost = walk(book.asks, amount)

    result = await execute(momentum(), context("job-1"), paper)

    assert result.signal == "buy" and result.refused == ""
    assert result.figures["rsi"] == pytest.approx(66.3186, abs=0.01)  # StockCharts' second RSI
    assert result.orders_placed == 1
    [order] = result.orders
    assert (order.client_order_id, order.side, order.exchange) == ("job-1-buy", "buy", VENUE)
    assert (D(order.amount), D(order.filled), D(order.cost)) == (amount, amount, cost)
    assert D(order.fee_cost) == cost * FEE
    exposure = amount * price
    assert D(result.worst_case_loss) == exposure * D("0.1") + 2 * exposure * FEE <= 100
    assert (result.position_exchange, result.position_symbol) == (VENUE, PAIR)
    assert (D(result.position_amount), D(result.entry_price)) == (amount, cost / amount)
    assert (await paper.balance(VENUE, "strategy_m"))["USD"].free == 100_000 - cost - cost * FEE


async def test_rsi_70_53_is_overbought_and_holds(paper: PaperExchange) -> None:
    result = await execute(momentum(closes=HOLD_CLOSES), context(), paper)
    assert result.signal == "hold" and result.orders_placed == 0 and not result.orders
    assert result.figures["rsi"] == pytest.approx(70.5328, abs=0.01)
    assert await paper.position("strategy_m", VENUE, PAIR) is None


async def test_an_amount_beyond_max_position_size_is_refused_and_reported(paper: PaperExchange) -> None:
    price = (await paper.order_book(VENUE, PAIR)).mid
    amount = down(D(1100) / price)  # about 1100 of notional, over maxPositionSize 1000
    result = await execute(momentum(amount=str(amount)), context(), paper)
    assert result.signal == "buy" and result.orders_placed == 0
    assert "would exceed maxPositionSize x maxLeverage = 1000" in result.refused
    assert await paper.balance(VENUE, "strategy_m") == {
        "BTC": Balance(D(1), D(0)),
        "ETH": Balance(D(20), D(0)),
        "USD": Balance(D(100_000), D(0)),
    }


async def test_leverage_lifts_the_position_limit_but_max_loss_still_refuses(paper: PaperExchange) -> None:
    price = (await paper.order_book(VENUE, PAIR)).mid
    amount = down(D(1500) / price)
    exposure = amount * price
    levered = {"maxPositionSize": 1000, "maxLoss": 100, "maxLeverage": 2}
    refused = await execute(momentum(levered, amount=str(amount)), context("job-1"), paper)
    # within 2000, but its worst case E x 0.1 + 2E x 0.001 is about 153 > 100
    worst = exposure * D("0.1") + 2 * exposure * FEE
    assert D(refused.worst_case_loss) == worst > 100
    assert "would exceed maxLoss 100" in refused.refused and "worst-case loss" in refused.refused
    assert refused.orders_placed == 0

    # with room for that loss (the same 10 % stop), leverage lets 1500 through where 1000 would not
    roomy = {"maxPositionSize": 1000, "maxLoss": 200, "maxLeverage": 2}
    placed = await execute(momentum(roomy, amount=str(amount), stoploss=0.1), context("job-2"), paper)
    assert placed.refused == "" and placed.orders_placed == 1
    assert D(placed.position_amount) == amount


async def test_a_var_passed_in_widens_the_stop_and_shrinks_the_order(paper: PaperExchange) -> None:
    price = (await paper.order_book(VENUE, PAIR)).mid
    # VaR 150 of the 1000 priced: 15 % may be lost, so N x 0.15 + 2N x 0.001 <= 100
    amount = down(D(100) / (D("0.15") + 2 * FEE) / price)
    result = await execute(momentum(valueAtRisk="150", portfolioValue=1000), context(), paper)
    assert result.figures["stoploss"] == "0.15"
    assert D(result.orders[0].amount) == amount


async def test_a_position_held_leaves_its_room_and_none_left_is_refused(paper: PaperExchange) -> None:
    price = (await paper.order_book(VENUE, PAIR)).mid
    first = down(D(1000) / price)  # all the position limit allows; with a 10 % stop maxLoss 200 lets it
    limits = {"maxPositionSize": 1000, "maxLoss": 200}
    bought = await execute(momentum(limits, amount=str(first), stoploss=0.1), context("job-1"), paper)
    assert bought.orders_placed == 1

    again = await execute(momentum(limits, stoploss=0.1), context("job-2"), paper)
    # 1000 - first x price is less than one step's worth: nothing can be bought
    assert D(1000) - first * price < STEP * price
    assert again.orders_placed == 0 and again.refused.startswith("no room for a buy of BTC/USD")
    position = await paper.position("strategy_m", VENUE, PAIR)
    assert position is not None and position.contracts == first


async def test_a_job_delivered_again_reports_its_first_order_and_orders_nothing(paper: PaperExchange) -> None:
    first = await execute(momentum(), context("job-1", 1), paper)
    wallet = await paper.balance(VENUE, "strategy_m")
    again = await execute(momentum(), context("job-1", 2), paper)
    assert again.orders == first.orders and again.orders_placed == 1
    assert again.position_amount == first.position_amount
    assert "placed by an earlier delivery" in plain(again.figures)["resumed"]
    assert await paper.balance(VENUE, "strategy_m") == wallet


async def test_a_worker_whose_job_was_taken_over_cannot_order(paper: PaperExchange) -> None:
    # the job's new holder (token 2) has been seen by the venue
    await paper.create_order(
        VENUE, PAIR, Side.BUY, STEP, account="strategy_m", client_order_id="other", fence=Fence("job-1", 2)
    )
    with pytest.raises(FencedOffError):
        await execute(momentum(), context("job-1", 1), paper)


async def test_the_venue_refusing_the_order_is_reported(make_paper: Callable[..., PaperExchange]) -> None:
    poor = make_paper(starting_balance={"USD": D(10)})
    result = await execute(momentum(), context(), poor)
    assert result.orders_placed == 0 and "insufficient funds on binance" in result.refused


async def test_the_venues_closes_feed_the_rsi_when_none_are_given(paper: PaperExchange) -> None:
    closes = [c.close for c in await paper.candles(VENUE, PAIR, 100)]
    job = momentum()
    del job.parameters.fields["closes"]
    result = await execute(job, context(), paper)
    figures = plain(result.figures)
    assert figures["closesFrom"] == "binance candles"
    assert [D(c) for c in figures["closes"]] == closes[-15:]


async def test_a_negative_amount_is_bad_input(paper: PaperExchange) -> None:
    with pytest.raises(ValueError, match=r"parameters\.amount must be positive"):
        await execute(momentum(amount="-0.01"), context(), paper)
