"""A symbol's market figures for risk-analysis's `market` type: volatility, drawdown and trend.

The conventions, which each result states so that every figure can be redone by hand:

- returns are simple: r_t = close_t / close_{t-1} - 1;
- volatility is the sample standard deviation (divisor n - 1, as Hull estimates it)
  of the returns, per period; annualised, it is that times sqrt(periods per year),
  365 unless told otherwise: the returns are read as daily, as the VaR's horizon
  reads them, on crypto's calendar, which trades every day (equities use 252);
- the drawdown at t is (peak_t - close_t) / peak_t, peak_t the highest close up to
  t; the maximum drawdown is the largest, with the indexes of its peak and trough;
  the current drawdown is the last close's;
- the trend is the least-squares line through the closes against their index
  0..n-1: its slope in quote currency per period, the slope over the mean close in
  percent per period, and its direction by the slope's sign (up, down, flat).

Prices and returns are Decimals: sums and products exact, quotients to 28
significant digits. The volatility is a float, an estimate like the VaR's.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Final

from worker_trading.order_book import EXACT, QUOTIENT

DAYS_PER_YEAR: Final = 365
_HUNDRED: Final = Decimal(100)


def simple_returns(closes: Sequence[Decimal]) -> list[Decimal]:
    """close_t / close_{t-1} - 1 for each consecutive pair; ValueError on a close that is not positive."""
    for i, close in enumerate(closes):
        if not (close.is_finite() and close > 0):
            raise ValueError(f"close {i} must be a positive price, got {close}")
    return [QUOTIENT.subtract(QUOTIENT.divide(b, a), 1) for a, b in pairwise(closes)]


@dataclass(frozen=True, slots=True)
class Volatility:
    per_period: float  # sample stdev of the returns
    annualised: float  # per_period x sqrt(periods_per_year)
    periods_per_year: int


def volatility(returns: Sequence[Decimal], periods_per_year: int = DAYS_PER_YEAR) -> Volatility:
    if len(returns) < 2:
        raise ValueError(f"volatility needs at least 2 returns, got {len(returns)}")
    if periods_per_year < 1:
        raise ValueError(f"periods per year must be at least 1, got {periods_per_year}")
    per_period = statistics.stdev(float(r) for r in returns)
    return Volatility(per_period, per_period * math.sqrt(periods_per_year), periods_per_year)


@dataclass(frozen=True, slots=True)
class Drawdown:
    maximum: Decimal  # the largest (peak - close) / peak, a fraction
    peak_index: int  # where the peak of the maximum drawdown was
    trough_index: int  # where its trough was
    current: Decimal  # the last close's drawdown from the highest close before it


def drawdown(closes: Sequence[Decimal]) -> Drawdown:
    if not closes:
        raise ValueError("drawdown needs at least one close")
    peak_at, worst = 0, (Decimal(0), 0, 0)
    current = Decimal(0)
    for i, close in enumerate(closes):
        if close > closes[peak_at]:
            peak_at = i
        current = QUOTIENT.divide(EXACT.subtract(closes[peak_at], close), closes[peak_at])
        if current > worst[0]:
            worst = (current, peak_at, i)
    return Drawdown(worst[0], worst[1], worst[2], current)


@dataclass(frozen=True, slots=True)
class Trend:
    slope: Decimal  # quote currency per period, least squares
    slope_percent: Decimal  # slope / mean close x 100, percent per period
    direction: str  # "up", "down" or "flat"
    total_return: Decimal  # last / first - 1


def trend(closes: Sequence[Decimal]) -> Trend:
    """The least-squares slope b = sum((x - x_mean) y) / sum((x - x_mean)^2), x = 0..n-1."""
    n = len(closes)
    if n < 2:
        raise ValueError(f"a trend needs at least 2 closes, got {n}")
    x_mean = EXACT.divide(Decimal(n - 1), 2)
    sxy = sxx = Decimal(0)
    for i, close in enumerate(closes):
        dx = EXACT.subtract(Decimal(i), x_mean)
        sxy = EXACT.add(sxy, EXACT.multiply(dx, close))
        sxx = EXACT.add(sxx, EXACT.multiply(dx, dx))
    slope = QUOTIENT.divide(sxy, sxx)
    mean = QUOTIENT.divide(sum(closes, Decimal(0)), n)
    direction = "up" if slope > 0 else "down" if slope < 0 else "flat"
    return Trend(
        slope,
        QUOTIENT.multiply(QUOTIENT.divide(slope, mean), _HUNDRED),
        direction,
        QUOTIENT.subtract(QUOTIENT.divide(closes[-1], closes[0]), 1),
    )
