"""risk-analysis: the four analysis types of the seed, each with the figures it stands on.

- `var`: value at risk and expected shortfall of `parameters.portfolioValue` (1
  unless given) over `parameters.returns`, else the returns of the closes of
  `parameters.exchange` / `symbol` (binance, BTC/USD). trading-svc's strategies
  ask this one before they trade.
- `position` (position_risk.py): an account's position on a venue: exposure,
  unrealized PnL and the VaR of its exposure.
- `portfolio` (position_risk.py): positions aggregated: value, weights, the
  VaR of the portfolio's returns, and what diversification saves.
- `market`: the symbol's volatility, drawdown and trend (market_stats.py
  states the conventions), from `parameters.closes` or the venue's closes.

VaR settings (confidence, horizonDays, method) are read alike by every type
(var_figures.py). Every figure is in the result, VaR fields and `figures`.
"""

from __future__ import annotations

from typing import Any

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from worker_trading.exchange import Exchange
from worker_trading.market_stats import DAYS_PER_YEAR, drawdown, simple_returns, trend, volatility
from worker_trading.processors.inputs import decimal, decimals, figures, params
from worker_trading.processors.position_risk import portfolio, position
from worker_trading.processors.var_figures import CANDLES, VarSettings, put_var, returns_of

DEFAULT_VENUE, DEFAULT_SYMBOL = "binance", "BTC/USD"


async def analyze(job: tj.RiskAnalysisJob, exchange: Exchange) -> tr.RiskAnalysisResult:
    p = params(job.parameters)
    result = tr.RiskAnalysisResult(analysis_type=job.analysis_type)
    kind = job.analysis_type
    if kind == tj.ANALYSIS_TYPE_VAR:
        await _var(p, exchange, result)
    elif kind == tj.ANALYSIS_TYPE_MARKET:
        await _market(p, exchange, result)
    elif kind == tj.ANALYSIS_TYPE_POSITION:
        await position(job, p, exchange, result)
    elif kind == tj.ANALYSIS_TYPE_PORTFOLIO:
        await portfolio(job, p, exchange, result)
    else:
        raise ValueError(f"analysis_type {kind} is not one of portfolio, position, market, var")
    return result


def _venue(p: dict[str, Any]) -> tuple[str, str]:
    return str(p.get("exchange", DEFAULT_VENUE)), str(p.get("symbol", DEFAULT_SYMBOL))


async def _var(p: dict[str, Any], exchange: Exchange, result: tr.RiskAnalysisResult) -> None:
    returns = await returns_of(p, exchange, *_venue(p))
    value = decimal(p.get("portfolioValue", 1), "portfolioValue")
    if value <= 0:
        raise ValueError(f"parameters.portfolioValue must be positive, got {value}")
    _, both = put_var(result, VarSettings.of(p), returns, value)
    result.figures.CopyFrom(figures(**both, returns=returns[-20:]))


async def _market(p: dict[str, Any], exchange: Exchange, result: tr.RiskAnalysisResult) -> None:
    venue, symbol = _venue(p)
    if "closes" in p:
        closes, source = decimals(p["closes"], "closes"), "parameters.closes"
    else:
        closes = [c.close for c in await exchange.candles(venue, symbol, CANDLES)]
        source = f"{venue} {symbol} candles"
    returns = simple_returns(closes)
    vol = volatility(returns, int(p.get("periodsPerYear", DAYS_PER_YEAR)))
    down, line = drawdown(closes), trend(closes)
    result.observations = len(returns)
    result.figures.CopyFrom(
        figures(
            closesFrom=source,
            closes=len(closes),
            firstClose=closes[0],
            lastClose=closes[-1],
            volatility={
                "perPeriod": vol.per_period,
                "annualised": vol.annualised,
                "periodsPerYear": vol.periods_per_year,
                "rule": "sample stdev (n - 1) of simple returns; annualised x sqrt(periodsPerYear)",
            },
            drawdown={
                "maximum": down.maximum,
                "peakIndex": down.peak_index,
                "troughIndex": down.trough_index,
                "current": down.current,
                "rule": "(peak - close) / peak, peak the highest close so far",
            },
            trend={
                "slope": line.slope,
                "slopePercent": line.slope_percent,
                "direction": line.direction,
                "totalReturn": line.total_return,
                "rule": "least-squares slope of the closes on their index, per period",
            },
            returns=returns[-20:],
        )
    )
