"""risk-analysis's `var` and `market` types against Hull's figures and series redone by hand."""

from __future__ import annotations

import math
import statistics
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import Any

import pytest
from google.protobuf import json_format

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from worker_trading.paper_exchange import PaperExchange
from worker_trading.processors.risk_analysis import analyze

D = Decimal
# Hull's Microsoft position: daily sigma 2 %, mean 0, as two returns mean +- sigma / sqrt(2)
# (to 18 places, the most a decimal string of the contract carries)
_A = (D("0.02") / D(2).sqrt()).quantize(D("1e-18"))
HULL_RETURNS = [str(_A), str(-_A)]


def analysis(kind: tj.AnalysisType, **parameters: Any) -> tj.RiskAnalysisJob:
    job = tj.RiskAnalysisJob(analysis_type=kind, scope=tj.RiskScope(timeframe="1d"))
    job.parameters.update(parameters)
    return job


async def test_var_of_hulls_ten_million_at_two_percent_is_465_300_a_day(paper: PaperExchange) -> None:
    job = analysis(tj.ANALYSIS_TYPE_VAR, returns=HULL_RETURNS, portfolioValue=10_000_000, method="parametric")
    result = await analyze(job, paper)
    # Hull: 2.326 x 200,000 = $465,300 (to the nearest 100)
    assert float(result.value_at_risk) == pytest.approx(465_300, abs=50)
    assert (result.method, result.horizon_days, result.confidence) == ("parametric", 1, 0.99)
    assert result.portfolio_value == "10000000" and result.observations == 2
    # the other method is among the figures: with 2 scenarios the 99 % tail is the worse one
    historical = json_format.MessageToDict(result.figures)["historical"]
    assert historical["tailRank"] == 1
    assert historical["var"] == pytest.approx(0.02 / math.sqrt(2) * 10_000_000)


async def test_historical_var_is_the_kth_worst_loss_of_the_venues_returns(paper: PaperExchange) -> None:
    closes = [c.close for c in await paper.candles("kraken", "ETH/USD", 251)]
    losses = sorted((-(b / a - 1) * 1000 for a, b in pairwise(closes)), reverse=True)
    k = math.ceil(250 * (1 - 0.99))  # Hull's rule: the 3rd worst of 250 scenarios at 99 %
    job = analysis(tj.ANALYSIS_TYPE_VAR, exchange="kraken", symbol="ETH/USD", portfolioValue=1000)
    result = await analyze(job, paper)
    assert k == 3 and result.observations == 250
    assert D(result.value_at_risk) == pytest.approx(losses[k - 1], abs=D("0.005"))
    assert D(result.expected_shortfall) == pytest.approx(sum(losses[:k]) / k, abs=D("0.005"))


# A path with a rally, a crash and a partial recovery, small enough to redo by hand.
CLOSES = [100, 110, 99, 105, 120, 90, 95]


async def test_market_volatility_drawdown_and_trend_of_closes_fed_in(paper: PaperExchange) -> None:
    result = await analyze(analysis(tj.ANALYSIS_TYPE_MARKET, closes=CLOSES), paper)
    figures = json_format.MessageToDict(result.figures)

    returns = [Fraction(b, a) - 1 for a, b in pairwise(CLOSES)]  # 1/10, -1/10, 2/33, 1/7, -1/4, 1/18
    sigma = statistics.stdev(float(r) for r in returns)  # sample, n - 1
    assert result.observations == 6
    assert figures["volatility"]["perPeriod"] == pytest.approx(sigma, rel=1e-12)
    assert figures["volatility"]["annualised"] == pytest.approx(sigma * math.sqrt(365), rel=1e-12)
    assert figures["volatility"]["periodsPerYear"] == 365
    # the worst fall from a peak: 120 -> 90, a quarter; the last close is 25/120 below that peak
    assert figures["drawdown"] == {
        "maximum": "0.25",
        "peakIndex": 4,
        "troughIndex": 5,
        "current": str(D(25) / D(120)),
        "rule": "(peak - close) / peak, peak the highest close so far",
    }
    # least squares on x = 0..6, x_mean 3: slope = sum((x - 3) y) / sum((x - 3)^2) = -34 / 28
    slope = Fraction(sum((x - 3) * y for x, y in enumerate(CLOSES)), 28)
    assert slope == Fraction(-34, 28)
    assert D(figures["trend"]["slope"]) == pytest.approx(D(-34) / D(28), abs=D("1e-26"))
    mean = Fraction(sum(CLOSES), len(CLOSES))
    assert float(figures["trend"]["slopePercent"]) == pytest.approx(float(slope / mean * 100), rel=1e-15)
    assert (figures["trend"]["direction"], figures["trend"]["totalReturn"]) == ("down", "-0.05")
    assert result.value_at_risk == ""  # a market analysis prices no position


async def test_market_annualises_by_the_periods_per_year_it_is_told(paper: PaperExchange) -> None:
    result = await analyze(analysis(tj.ANALYSIS_TYPE_MARKET, closes=CLOSES, periodsPerYear=252), paper)
    vol = json_format.MessageToDict(result.figures)["volatility"]
    assert vol["annualised"] == pytest.approx(vol["perPeriod"] * math.sqrt(252), rel=1e-12)


async def test_market_reads_the_venues_closes_when_none_are_fed(paper: PaperExchange) -> None:
    closes = [c.close for c in await paper.candles("binance", "BTC/USD", 251)]
    peak, worst = closes[0], D(0)
    for close in closes:  # the running peak, and the deepest fall below it
        peak = max(peak, close)
        worst = max(worst, (peak - close) / peak)
    result = await analyze(analysis(tj.ANALYSIS_TYPE_MARKET), paper)
    figures = json_format.MessageToDict(result.figures)
    assert figures["closesFrom"] == "binance BTC/USD candles" and figures["closes"] == 251
    assert D(figures["drawdown"]["maximum"]) == worst
    assert D(figures["lastClose"]) == closes[-1]


@pytest.mark.parametrize(
    ("kind", "parameters", "message"),
    [
        (tj.ANALYSIS_TYPE_UNSPECIFIED, {}, "not one of portfolio, position, market, var"),
        (tj.ANALYSIS_TYPE_VAR, {"returns": HULL_RETURNS, "method": "montecarlo"}, "historical or parametric"),
        (tj.ANALYSIS_TYPE_VAR, {"returns": HULL_RETURNS, "portfolioValue": 0}, "must be positive"),
        (tj.ANALYSIS_TYPE_MARKET, {"closes": [100, 0, 90]}, "close 1 must be a positive price"),
    ],
)
async def test_bad_parameters_are_bad_input(
    paper: PaperExchange, kind: tj.AnalysisType, parameters: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await analyze(analysis(kind, **parameters), paper)
