"""Momentum indicators for strategy-execution: Wilder's RSI and the signal a strategy reads from it.

RSI is computed exactly as TA-Lib's `TA_RSI` and StockCharts' ChartSchool compute it,
because those are the numbers a user will check a job's result against:

- change_i = close_i - close_{i-1}; gain_i = max(change_i, 0), loss_i = max(-change_i, 0);
- the first average gain (loss) is the simple mean of the first n gains (losses);
- each next average is (previous * (n - 1) + current) / n (Wilder's smoothing, alpha = 1/n);
- RSI = 100 * avg_gain / (avg_gain + avg_loss), which is 100 - 100 / (1 + RS) written so
  that it never divides by zero.

Seeding the averages with the first move instead (an EWM "adjusted=False" from bar 0) is
a different indicator: on StockCharts' example it reads ~51 where Wilder reads 70.5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Final

DEFAULT_PERIOD: Final = 14
DEFAULT_OVERBOUGHT: Final = 70.0
DEFAULT_OVERSOLD: Final = 30.0

# TA-Lib's TA_IS_ZERO: a sum of averages this close to 0 counts as "no movement at all".
_TA_LIB_ZERO: Final = 1e-14


def rsi(closes: Sequence[float | Decimal], period: int = DEFAULT_PERIOD) -> list[float | None]:
    """Wilder's RSI of `closes`, aligned with them: index i holds the RSI as of close i.

    The first `period` entries are None (TA-Lib's lookback: n closes give no value, the
    first RSI is at index n, from the first n changes). Closes may be floats or Decimals;
    the computation is in binary floating point, as TA-Lib's, since an indicator reading
    is not an amount and nothing downstream needs it exact.

    Edge cases follow TA-Lib: only gains (average loss 0) gives 100, only losses gives 0,
    and no movement at all (both averages 0, or their sum below TA-Lib's 1e-14) gives 0,
    not the 50 some libraries return. A market that did not move therefore reads 0, deep
    in "oversold": a strategy that must not buy a dead market has to check for that itself.

    Raises ValueError for period < 2, fewer than period + 1 closes, or a close that is
    not a finite number.
    """
    prices = _finite_closes(closes, period)
    changes = [current - previous for previous, current in pairwise(prices)]
    avg_gain = sum(max(change, 0.0) for change in changes[:period]) / period
    avg_loss = sum(max(-change, 0.0) for change in changes[:period]) / period
    values: list[float | None] = [None] * period
    values.append(_strength_index(avg_gain, avg_loss))
    for change in changes[period:]:
        avg_gain = (avg_gain * (period - 1) + max(change, 0.0)) / period
        avg_loss = (avg_loss * (period - 1) + max(-change, 0.0)) / period
        values.append(_strength_index(avg_gain, avg_loss))
    return values


def _finite_closes(closes: Sequence[float | Decimal], period: int) -> list[float]:
    """The closes as floats, after the checks that make a bad request fail loudly, not oddly."""
    if isinstance(period, bool) or not isinstance(period, int) or period < 2:
        raise ValueError(f"RSI period must be an integer of at least 2, got {period!r}")
    if len(closes) < period + 1:
        raise ValueError(
            f"RSI({period}) needs at least {period + 1} closes ({period} price changes), got {len(closes)}"
        )
    prices = [float(close) for close in closes]
    for index, price in enumerate(prices):
        if not math.isfinite(price):
            raise ValueError(f"close {index} must be a finite number, got {closes[index]!r}")
    return prices


def _strength_index(avg_gain: float, avg_loss: float) -> float:
    """TA-Lib's final step: 100 * gain / (gain + loss), and 0 when there was no movement."""
    total = avg_gain + avg_loss
    if total < _TA_LIB_ZERO:
        return 0.0
    return 100.0 * avg_gain / total


class RsiSignal(StrEnum):
    """Where an RSI reading sits for a momentum strategy (values are what a job result shows)."""

    OVERBOUGHT = "overbought"  # above the upper level: the move is stretched, a sell/exit candidate
    OVERSOLD = "oversold"  # below the lower level: a buy/entry candidate
    NEUTRAL = "neutral"  # between the levels (inclusive): no signal


def rsi_signal(
    value: float,
    *,
    overbought: float = DEFAULT_OVERBOUGHT,
    oversold: float = DEFAULT_OVERSOLD,
) -> RsiSignal:
    """Classify one RSI reading with Wilder's 70/30 levels unless the strategy sets its own.

    StockCharts' reading is "overbought when above 70, oversold when below 30", so the
    levels themselves are neutral. Raises ValueError for a reading outside 0..100 or
    levels that are not 0 <= oversold < overbought <= 100.
    """
    if not 0.0 <= oversold < overbought <= 100.0:
        raise ValueError(
            f"RSI levels must satisfy 0 <= oversold < overbought <= 100, got oversold={oversold}, "
            f"overbought={overbought}"
        )
    if not 0.0 <= value <= 100.0:  # also refuses NaN
        raise ValueError(f"an RSI reading lies in 0..100, got {value}")
    if value > overbought:
        return RsiSignal.OVERBOUGHT
    if value < oversold:
        return RsiSignal.OVERSOLD
    return RsiSignal.NEUTRAL
