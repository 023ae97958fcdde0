"""Value at Risk and expected shortfall of a return series, for risk-analysis's `var` jobs.

Both methods take a series of periodic (daily) returns as fractions (0.01 = +1 %), a
portfolio value V, a confidence c (0.99) and a horizon of h days, and report a LOSS as a
POSITIVE amount in V's currency: a VaR of 465,300 means "a loss of 465,300 is not
exceeded with probability c over h days". A negative figure means even that quantile is
a gain. One-day figures are scaled to h days by sqrt(h) (returns assumed independent and
identically distributed), as Hull does; the result says which rule made each figure so
every number in a job result can be redone by hand.

Inputs may be floats or Decimals; figures are computed in binary floating point (they are
estimates, not amounts to book). Only the historical tail rank is computed in Decimal,
so that ceil(500 * (1 - 0.99)) is 5 and not 6 by a rounding error.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

HISTORICAL_RULE = "k = ceil(N*(1-c)); VaR = k-th worst loss; ES = mean of the k worst losses; x sqrt(h)"
PARAMETRIC_RULE = "z = N^-1(c); VaR = (z*sigma - mu)*V*sqrt(h); ES = (sigma*phi(z)/(1-c) - mu)*V*sqrt(h)"


class VarMethod(StrEnum):
    """How the loss distribution was estimated (the value a job result shows)."""

    HISTORICAL = "historical"  # the observed returns, as scenarios
    PARAMETRIC = "parametric"  # a normal distribution fitted to them (variance-covariance)


@dataclass(frozen=True, slots=True)
class ValueAtRisk:
    """Every figure of one VaR estimate, so a processor can put each in a job result."""

    method: VarMethod
    var: float  # loss not exceeded with probability `confidence` over `horizon_days`, positive = loss
    expected_shortfall: float  # average loss in the tail beyond the VaR, same units and horizon
    confidence: float
    horizon_days: int
    observations: int  # how many returns the estimate rests on
    portfolio_value: float
    quantile_rule: str  # the formula used, in words (HISTORICAL_RULE or PARAMETRIC_RULE)
    tail_rank: int | None = None  # historical: k, the rank of the VaR loss counted from the worst
    z: float | None = None  # parametric: the standard normal quantile at `confidence`
    mean: float | None = None  # parametric: mu, the mean one-period return
    stdev: float | None = None  # parametric: sigma, the sample (n - 1) standard deviation


def historical_var(
    returns: Sequence[float | Decimal],
    portfolio_value: float | Decimal,
    confidence: float | Decimal = 0.99,
    horizon_days: int = 1,
) -> ValueAtRisk:
    """Historical-simulation VaR and ES: each past return is one scenario for tomorrow.

    Quantile rule (Hull, "Options, Futures and Other Derivatives" / "Risk Management and
    Financial Institutions"): with N scenarios the losses L_i = -r_i * V are sorted from
    worst to best and the one-day VaR is the loss at rank k = ceil(N * (1 - c)). With 500
    scenarios the 99 % VaR is the 5th worst loss; with 20, the 95 % VaR is the worst.
    (Dowd's alternative, rank N * (1 - c) + 1, is not what this computes.)

    Expected shortfall is the mean of the k worst losses, the VaR's own among them: the
    (1 - c) tail the VaR rank closes, so that ES >= VaR always and ES is defined even when
    k = 1 (then ES = VaR). Both are multiplied by sqrt(h).

    Raises ValueError for no returns, a non-finite return, 0 >= c or c >= 1, h < 1, or a
    portfolio value that is not a positive finite number.
    """
    level = _confidence(confidence)
    days = _horizon(horizon_days)
    value = _portfolio_value(portfolio_value)
    series = _finite_returns(returns, minimum=1)
    losses = sorted((-r * value for r in series), reverse=True)
    rank = math.ceil(len(losses) * (1 - level))
    scale = math.sqrt(days)
    return ValueAtRisk(
        method=VarMethod.HISTORICAL,
        var=losses[rank - 1] * scale,
        expected_shortfall=statistics.fmean(losses[:rank]) * scale,
        confidence=float(level),
        horizon_days=days,
        observations=len(series),
        portfolio_value=value,
        quantile_rule=HISTORICAL_RULE,
        tail_rank=rank,
    )


def parametric_var(
    returns: Sequence[float | Decimal],
    portfolio_value: float | Decimal,
    confidence: float | Decimal = 0.99,
    horizon_days: int = 1,
) -> ValueAtRisk:
    """Variance-covariance VaR and ES: returns taken as normal with the series' mean and spread.

    With mu the mean return, sigma the sample standard deviation (divisor n - 1), z the
    standard normal quantile at c (statistics.NormalDist().inv_cdf(c), 2.326 at 99 %) and
    phi its density:

        VaR = (z * sigma - mu) * V * sqrt(h)
        ES  = (sigma * phi(z) / (1 - c) - mu) * V * sqrt(h)

    the closed forms for a normal loss with mean -mu*V and deviation sigma*V (Hull). The
    whole one-day figure, mu included, is scaled by sqrt(h): the issue's convention, exact
    for mu = 0 and Hull's usual assumption; a drift strictly grows with h, not sqrt(h).

    Raises ValueError for fewer than 2 returns, a non-finite return, 0 >= c or c >= 1,
    h < 1, or a portfolio value that is not a positive finite number.
    """
    level = _confidence(confidence)
    days = _horizon(horizon_days)
    value = _portfolio_value(portfolio_value)
    series = _finite_returns(returns, minimum=2)
    mean = statistics.fmean(series)
    stdev = statistics.stdev(series)
    normal = statistics.NormalDist()
    z = normal.inv_cdf(float(level))
    tail = 1 - float(level)
    scale = value * math.sqrt(days)
    return ValueAtRisk(
        method=VarMethod.PARAMETRIC,
        var=(z * stdev - mean) * scale,
        expected_shortfall=(stdev * normal.pdf(z) / tail - mean) * scale,
        confidence=float(level),
        horizon_days=days,
        observations=len(series),
        portfolio_value=value,
        quantile_rule=PARAMETRIC_RULE,
        z=z,
        mean=mean,
        stdev=stdev,
    )


def _confidence(confidence: float | Decimal) -> Decimal:
    """c as the decimal it prints as (0.99 -> Decimal("0.99")), strictly between 0 and 1."""
    level = Decimal(str(confidence)) if isinstance(confidence, float) else Decimal(confidence)
    if not (level.is_finite() and 0 < level < 1):
        raise ValueError(f"confidence must lie strictly between 0 and 1 (0.99 for 99 %), got {confidence}")
    return level


def _horizon(horizon_days: int) -> int:
    """h in whole days; the sqrt(h) rule has no meaning for less than one period."""
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days < 1:
        raise ValueError(f"horizon_days must be a whole number of days, at least 1, got {horizon_days!r}")
    return horizon_days


def _portfolio_value(portfolio_value: float | Decimal) -> float:
    """V as a float; a VaR of a zero or negative position is a caller's mistake, not a figure."""
    value = float(portfolio_value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"portfolio_value must be a positive finite amount, got {portfolio_value}")
    return value


def _finite_returns(returns: Sequence[float | Decimal], minimum: int) -> list[float]:
    """The returns as floats, at least `minimum` of them, none of them NaN or infinite."""
    if len(returns) < minimum:
        raise ValueError(f"needs at least {minimum} return(s), got {len(returns)}")
    series = [float(r) for r in returns]
    for index, r in enumerate(series):
        if not math.isfinite(r):
            raise ValueError(f"return {index} must be a finite number, got {returns[index]!r}")
    return series
