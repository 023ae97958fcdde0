"""position-monitoring's checks on paths redone by hand (freqtrade's stops), and a close on the venue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from tests.worker_trading.processors.conftest import Held, context, walk
from worker_trading.exchange import Fence
from worker_trading.order_book import EXCHANGES, Side
from worker_trading.paper_exchange import PaperExchange
from worker_trading.processors.position_monitoring import monitor

D = Decimal


def watch(kind: tj.MonitoringType, thresholds: dict[str, str], **parameters: Any) -> tj.PositionMonitoringJob:
    job = tj.PositionMonitoringJob(
        position_id="strategy_w", exchange="binance", symbol="BTC/USD", monitoring_type=kind
    )
    for name, value in thresholds.items():
        job.thresholds[name].string_value = value
    job.parameters.update(parameters)
    return job


async def test_freqtrades_trailing_example_stop_at_100_94_fires_at_100_5(paper: PaperExchange) -> None:
    # freqtrade's docs: bought at 100, trailing_stop_positive 2 % once 3 % up: at 103 the stop is
    # 103 x 0.98 = 100.94; the next price, 100.5, is below it
    job = watch(
        tj.MONITORING_TYPE_TRAILING_STOP,
        {"stoploss": "0.10", "trailingStopPositive": "0.02", "trailingStopPositiveOffset": "0.03"},
        entryPrice=100,
        prices=[100, 102, 103, "100.5"],
    )
    result = await monitor(job, context(), paper)
    assert result.triggered and D(result.price) == D("100.5") and D(result.level) == D("100.94")
    assert not result.close_order.id  # a path fed in holds no position to close


async def test_a_stop_loss_at_its_level_fires_and_one_above_does_not(paper: PaperExchange) -> None:
    fired = await monitor(
        watch(tj.MONITORING_TYPE_STOP_LOSS, {"stoploss": "0.05"}, prices=[100, 95]), context(), paper
    )
    assert fired.triggered and D(fired.level) == 95  # 100 x (1 - 0.05)
    held = await monitor(
        watch(tj.MONITORING_TYPE_STOP_LOSS, {"stoploss": "0.05"}, prices=[100, "95.01"]), context(), paper
    )
    assert not held.triggered


async def test_exit_now_closes_the_position_and_realizes_the_round_trip(
    paper: PaperExchange, clock: Held
) -> None:
    book = await paper.order_book("binance", "BTC/USD")
    await paper.create_order(
        "binance",
        "BTC/USD",
        Side.BUY,
        D("0.02"),
        account="strategy_w",
        client_order_id="b",
        fence=Fence("j", 1),
    )
    _, bought = walk(book.asks, D("0.02"))
    clock.ms += 30_000
    sold_into = await paper.order_book("binance", "BTC/USD")
    _, sold = walk(sold_into.bids, D("0.02"))
    fee = EXCHANGES["binance"].taker_fee

    result = await monitor(watch(tj.MONITORING_TYPE_RISK_CHECK, {}, exitNow=True), context("job-9"), paper)

    assert result.triggered and result.close_order.client_order_id == "job-9-close"
    assert (result.close_order.side, D(result.close_order.cost)) == ("sell", sold)
    assert D(result.realized_profit) == (sold - sold * fee) - (bought + bought * fee)
    position = await paper.position("strategy_w", "binance", "BTC/USD")
    assert position is not None and position.contracts == 0


async def test_an_exit_amount_sells_only_the_open_leg(paper: PaperExchange, clock: Held) -> None:
    """An arbitrage's open leg (0.005 of the 0.02 held): the exit sells that much and no more."""
    await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.02"),
        account="strategy_w", client_order_id="b", fence=Fence("j", 1),
    )  # fmt: skip
    clock.ms += 30_000
    sold_into = await paper.order_book("binance", "BTC/USD")
    _, sold = walk(sold_into.bids, D("0.005"))

    job = watch(tj.MONITORING_TYPE_RISK_CHECK, {}, exitNow=True, exitAmount="0.005")
    result = await monitor(job, context("job-9"), paper)

    assert result.triggered and result.close_order.client_order_id == "job-9-close"
    assert (D(result.close_order.amount), D(result.close_order.cost)) == (D("0.005"), sold)
    position = await paper.position("strategy_w", "binance", "BTC/USD")
    assert position is not None and position.contracts == D("0.015")


async def test_a_flat_arbitrage_has_nothing_to_watch_and_sells_nothing(paper: PaperExchange) -> None:
    await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.02"),
        account="strategy_w", client_order_id="b", fence=Fence("j", 1),
    )  # fmt: skip
    job = watch(tj.MONITORING_TYPE_TRAILING_STOP, {"stoploss": "0.0001"}, exitNow=True, flat=True)
    result = await monitor(job, context("job-9"), paper)
    assert result.triggered and not result.close_order.id
    position = await paper.position("strategy_w", "binance", "BTC/USD")
    assert position is not None and position.contracts == D("0.02")


async def test_an_exit_delivered_again_reports_the_close_it_placed(paper: PaperExchange) -> None:
    """The first delivery closed the position and lost its job (a takeover): the second finds
    its close by client order id and reports it, with the profit it realized."""
    await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.02"),
        account="strategy_w", client_order_id="b", fence=Fence("j", 1),
    )  # fmt: skip
    job = watch(tj.MONITORING_TYPE_RISK_CHECK, {}, exitNow=True)
    first = await monitor(job, context("job-9", token=1), paper)
    again = await monitor(job, context("job-9", token=2), paper)
    assert again.triggered and again.close_order == first.close_order
    assert again.realized_profit == first.realized_profit and D(first.realized_profit) != 0
    orders = [await paper.fetch_order("binance", cid, account="strategy_w") for cid in ("b", "job-9-close")]
    assert all(o is not None for o in orders)
