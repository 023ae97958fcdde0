"""risk-analysis: value at risk and expected shortfall of a position, from returns fed in or the venue's.

`parameters` (all optional): returns (a list; else the venue's closes give
them), exchange and symbol (which venue), portfolioValue (default 1),
confidence (0.99), horizonDays (1), method ("historical" or "parametric").
Both methods are computed; the result states the one asked for and shows
the other among its figures, so either can be checked by hand.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Final

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from worker_trading.exchange import Exchange
from worker_trading.processors.inputs import decimal, decimals, figures, params
from worker_trading.risk import ValueAtRisk, VarMethod, historical_var, parametric_var

CANDLES: Final = 251  # 250 daily-style returns, Hull's usual window of scenarios


async def analyze(job: tj.RiskAnalysisJob, exchange: Exchange) -> tr.RiskAnalysisResult:
    p = params(job.parameters)
    if "returns" in p:
        returns = decimals(p["returns"], "returns")
    else:
        candles = await exchange.candles(
            str(p.get("exchange", "binance")), str(p.get("symbol", "BTC/USD")), CANDLES
        )
        closes = [c.close for c in candles]
        returns = [b / a - 1 for a, b in itertools.pairwise(closes)]
    value = decimal(p.get("portfolioValue", 1), "portfolioValue")
    confidence = decimal(p.get("confidence", 0.99), "confidence")
    horizon = int(p.get("horizonDays", 1))
    historical = historical_var(returns, value, confidence, horizon)
    parametric = parametric_var(returns, value, confidence, horizon)
    chosen = parametric if str(p.get("method", "historical")) == VarMethod.PARAMETRIC else historical
    return tr.RiskAnalysisResult(
        analysis_type=job.analysis_type,
        value_at_risk=_money(chosen.var),
        expected_shortfall=_money(chosen.expected_shortfall),
        confidence=float(confidence),
        horizon_days=horizon,
        method=str(chosen.method),
        rule=chosen.quantile_rule,
        observations=chosen.observations,
        portfolio_value=str(value),
        figures=figures(
            historical=_all(historical),
            parametric=_all(parametric),
            returns=[str(r) for r in returns[-20:]],
        ),
    )


def _money(x: float) -> str:
    return str(Decimal(repr(x)).quantize(Decimal("0.01")))


def _all(v: ValueAtRisk) -> dict[str, object]:
    return {
        "var": v.var,
        "expectedShortfall": v.expected_shortfall,
        "tailRank": v.tail_rank,
        "z": v.z,
        "mean": v.mean,
        "stdev": v.stdev,
        "rule": v.quantile_rule,
    }
