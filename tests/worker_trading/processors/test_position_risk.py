"""risk-analysis's `position` and `portfolio` types: ccxt's position figures, Hull's portfolio VaR.

Hull ("Options, Futures and Other Derivatives", the variance-covariance examples): $10 million
of Microsoft (daily sigma 2 %) and $5 million of AT&T (daily sigma 1 %), correlation 0.3.
sigma_P = sqrt(200,000^2 + 50,000^2 + 2 x 0.3 x 200,000 x 50,000) = $220,227; the 10-day
99 % VaR is 220,227 x 2.326 x sqrt(10) = $1,620,100, against 1,471,300 and 367,800 alone:
diversification is worth $219,000. Hull rounds to the nearest 100.
"""

from __future__ import annotations

import math
from decimal import Decimal
from itertools import pairwise
from statistics import NormalDist
from typing import Any

import pytest
from google.protobuf import json_format

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from tests.worker_trading.processors.conftest import Held, walk
from worker_trading.exchange import Fence
from worker_trading.order_book import EXCHANGES, Side
from worker_trading.paper_exchange import PaperExchange
from worker_trading.processors.risk_analysis import analyze

D = Decimal
Q18 = D("1e-18")


def analysis(
    kind: tj.AnalysisType, positions: tuple[str, ...] = (), portfolio: str = "", **parameters: Any
) -> tj.RiskAnalysisJob:
    job = tj.RiskAnalysisJob(analysis_type=kind, scope=tj.RiskScope(timeframe="1d", positions=positions))
    if portfolio:
        job.scope.portfolio_id = portfolio
    job.parameters.update(parameters)
    return job


def hull_returns() -> tuple[list[str], list[str]]:
    """Three daily returns each, mean 0, sample sigma 2 % and 1 %, correlation 0.3.

    With e1 = (1, -1, 0) / sqrt(2) and e2 = (1, 1, -2) / sqrt(6), orthonormal and of mean 0,
    a series a x e has sample variance a^2 / 2; so x = 0.02 x (1, -1, 0) and
    y = 0.01 x (0.3 (1, -1, 0) + sqrt(0.91 / 3) (1, 1, -2)): var y = 0.01^2 (0.09 + 0.91),
    cov(x, y) = 0.02 x 0.01 x 0.3.
    """
    c = (D("0.01") * (D("0.91") / 3).sqrt()).quantize(Q18)
    x = ["0.02", "-0.02", "0"]
    y = [str(D("0.003") + c), str(D("-0.003") + c), str(-2 * c)]
    return x, y


async def test_hulls_two_asset_portfolio_var_and_its_diversification_benefit(paper: PaperExchange) -> None:
    msft, att = hull_returns()
    holdings = [
        {"name": "Microsoft", "value": 10_000_000, "returns": msft},
        {"name": "AT&T", "value": 5_000_000, "returns": att},
    ]
    job = analysis(tj.ANALYSIS_TYPE_PORTFOLIO, holdings=holdings, method="parametric", horizonDays=10)
    result = await analyze(job, paper)
    figures = json_format.MessageToDict(result.figures)

    z = NormalDist().inv_cdf(0.99)
    sigma_p = math.sqrt(200_000**2 + 50_000**2 + 2 * 0.3 * 200_000 * 50_000)
    assert sigma_p == pytest.approx(220_227, abs=1)
    assert float(result.value_at_risk) == pytest.approx(z * sigma_p * math.sqrt(10), abs=0.01)
    assert float(result.value_at_risk) == pytest.approx(1_620_100, abs=50)  # Hull
    assert result.portfolio_value == "15000000" and result.horizon_days == 10
    alone = [h["standaloneVar"] for h in figures["holdings"]]
    assert alone == pytest.approx([1_471_300, 367_800], abs=50)  # Hull
    assert figures["diversificationBenefit"] == pytest.approx(219_000, abs=50)  # Hull
    assert [D(h["weight"]) for h in figures["holdings"]] == [D(2) / 3, D(1) / 3]
    assert D(figures["value"]) == 15_000_000


async def test_a_position_on_the_venue_priced_as_ccxt_does_with_the_var_of_its_exposure(
    paper: PaperExchange, clock: Held
) -> None:
    book = await paper.order_book("binance", "BTC/USD")
    await paper.create_order(
        "binance",
        "BTC/USD",
        Side.BUY,
        D("0.01"),
        account="strategy_p",
        client_order_id="b",
        fence=Fence("j", 1),
    )
    _, cost = walk(book.asks, D("0.01"))
    clock.ms += 60_000  # a minute later: the mark has moved
    mark = (await paper.order_book("binance", "BTC/USD")).mid
    closes = [c.close for c in await paper.candles("binance", "BTC/USD", 251)]

    job = analysis(tj.ANALYSIS_TYPE_POSITION, portfolio="strategy_p", exchange="binance", symbol="BTC/USD")
    result = await analyze(job, paper)
    figures = json_format.MessageToDict(result.figures)

    entry = cost / D("0.01")
    exposure = D("0.01") * mark
    assert (D(figures["contracts"]), D(figures["entryPrice"]), D(figures["markPrice"])) == (
        D("0.01"),
        entry,
        mark,
    )
    assert D(figures["exposure"]) == exposure and D(figures["costBasis"]) == cost
    assert D(figures["unrealizedPnl"]) == (mark - entry) * D("0.01")
    assert D(figures["realizedPnl"]) == -cost * EXCHANGES["binance"].taker_fee  # the buy's fee
    # historical VaR of the exposure: the 3rd worst of the 250 losses -r x exposure (Hull's rank)
    losses = sorted((-(b / a - 1) * exposure for a, b in pairwise(closes)), reverse=True)
    assert D(result.value_at_risk) == pytest.approx(losses[2], abs=D("0.005"))
    assert D(result.portfolio_value) == exposure


async def test_a_position_fed_in_with_its_returns(paper: PaperExchange) -> None:
    returns = ["0.01", "-0.04", "0.02", "-0.01", "0.03"] * 4  # 20 scenarios; at 95 % the worst, -4 %
    position = {"contracts": 2, "entryPrice": 100, "markPrice": "110"}
    job = analysis(tj.ANALYSIS_TYPE_POSITION, position=position, returns=returns, confidence=0.95)
    result = await analyze(job, paper)
    figures = json_format.MessageToDict(result.figures)
    assert [D(figures[k]) for k in ("exposure", "costBasis", "unrealizedPnl")] == [220, 200, 20]
    assert D(figures["unrealizedPnlPercent"]) == 10
    assert (result.value_at_risk, result.expected_shortfall) == ("8.80", "8.80")  # 0.04 x 220, k = 1


async def test_no_position_is_nothing_at_risk(paper: PaperExchange) -> None:
    job = analysis(tj.ANALYSIS_TYPE_POSITION, portfolio="nobody")
    result = await analyze(job, paper)
    assert (result.value_at_risk, result.portfolio_value) == ("0.00", "0")
    assert result.figures["note"] == "no open position: nothing at risk"


async def test_a_portfolio_of_two_accounts_positions_across_venues_and_symbols(paper: PaperExchange) -> None:
    fence = Fence("j", 1)
    await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.01"), account="s1", client_order_id="a", fence=fence
    )
    await paper.create_order(
        "kraken", "ETH/USD", Side.BUY, D("0.2"), account="s2", client_order_id="b", fence=fence
    )
    v1 = D("0.01") * (await paper.order_book("binance", "BTC/USD")).mid
    v2 = D("0.2") * (await paper.order_book("kraken", "ETH/USD")).mid
    btc = [c.close for c in await paper.candles("binance", "BTC/USD", 251)]
    eth = [c.close for c in await paper.candles("kraken", "ETH/USD", 251)]
    # each period one joint scenario: what both made, over the portfolio's value
    returns = [
        (v1 * (b1 / a1 - 1) + v2 * (b2 / a2 - 1)) / (v1 + v2)
        for (a1, b1), (a2, b2) in zip(pairwise(btc), pairwise(eth), strict=True)
    ]
    losses = sorted((-r * (v1 + v2) for r in returns), reverse=True)

    result = await analyze(analysis(tj.ANALYSIS_TYPE_PORTFOLIO, positions=("s1", "s2")), paper)
    figures = json_format.MessageToDict(result.figures)

    assert [h["name"] for h in figures["holdings"]] == ["s1:binance:BTC/USD", "s2:kraken:ETH/USD"]
    assert [D(h["value"]) for h in figures["holdings"]] == [v1, v2]
    assert D(figures["holdings"][0]["weight"]) == v1 / (v1 + v2)
    assert D(result.portfolio_value) == v1 + v2 and result.observations == 250
    assert D(result.value_at_risk) == pytest.approx(losses[2], abs=D("0.005"))


async def test_a_portfolio_holding_nothing_says_so(paper: PaperExchange) -> None:
    result = await analyze(analysis(tj.ANALYSIS_TYPE_PORTFOLIO, portfolio="empty"), paper)
    assert (result.value_at_risk, result.portfolio_value) == ("0.00", "0")
    assert result.figures["note"] == "no open positions: nothing at risk"


async def test_whose_positions_must_be_named(paper: PaperExchange) -> None:
    with pytest.raises(ValueError, match=r"scope\.positions or scope\.portfolio_id"):
        await analyze(analysis(tj.ANALYSIS_TYPE_PORTFOLIO), paper)
