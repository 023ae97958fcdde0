"""arbitrage-detection on books fed in, against Hummingbot's walk redone by hand."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from worker_trading.paper_exchange import PaperExchange
from worker_trading.processors.arbitrage_detection import detect

D = Decimal
BOOKS = {
    "binance": {"bids": [["99", "1"]], "asks": [["100", "1"], ["101", "2"]]},
    "kraken": {"bids": [["103", "1.5"], ["102", "1"]], "asks": [["104", "1"]]},
}
FEES = {"binance": "0.001", "kraken": "0.002"}


def scan(
    min_profit: float = 0.5, max_volume: str | None = None, **parameters: Any
) -> tj.ArbitrageDetectionJob:
    job = tj.ArbitrageDetectionJob(
        exchange_pair=["binance", "kraken"], symbol="BTC/USD", min_profit_percentage=min_profit
    )
    if max_volume is not None:
        job.max_volume.string_value = max_volume
    job.parameters.update({"orderBooks": BOOKS, "fees": FEES, **parameters})
    return job


async def test_the_walk_buys_binances_asks_into_krakens_bids_until_they_cross(paper: PaperExchange) -> None:
    # Hummingbot's walk: 1 @ 100 -> 103 (binance's first ask used up), 0.5 @ 101 -> 103 (kraken's
    # first bid used up), 1 @ 101 -> 102 (kraken's bids used up): 2.5 in all
    cost = 1 * D(100) + D("0.5") * 101 + 1 * D(101)  # 251.5
    proceeds = 1 * D(103) + D("0.5") * 103 + 1 * D(102)  # 256.5
    net_cost, net_proceeds = cost * D("1.001"), proceeds * D("0.998")
    result = await detect(scan(), paper)
    [o] = result.opportunities  # buying on kraken (ask 104) and selling on binance (bid 99) loses
    assert (o.buy_exchange, o.sell_exchange, o.symbol) == ("binance", "kraken", "BTC/USD")
    assert (D(o.volume), D(o.gross_profit)) == (D("2.5"), proceeds - cost)
    assert D(o.buy_vwap) == cost / D("2.5") and D(o.sell_vwap) == proceeds / D("2.5")
    assert D(o.net_profit) == net_proceeds - net_cost  # 255.987 - 251.7515 = 4.2355
    assert o.net_profit_percentage == pytest.approx(float((net_proceeds / net_cost - 1) * 100), rel=1e-12)


async def test_max_volume_stops_the_walk_inside_a_level(paper: PaperExchange) -> None:
    [o] = (await detect(scan(max_volume="1.2"), paper)).opportunities
    assert D(o.volume) == D("1.2")
    assert D(o.gross_profit) == (103 - 100) * 1 + (103 - 101) * D("0.2")


async def test_a_minimum_above_every_step_finds_nothing(paper: PaperExchange) -> None:
    # the first step alone makes 103 x 0.998 / (100 x 1.001) - 1 = 2.69 %
    assert (await detect(scan(min_profit=2.7), paper)).opportunities == []
    assert len((await detect(scan(min_profit=2.6), paper)).opportunities) == 1
