"""A portfolio's value, weights and return series, for risk-analysis's `portfolio` type.

A portfolio is holdings, each a value now (quote currency) and the return series
of what it holds. Its return in period t is what every holding made over the
portfolio's value, r_p,t = sum_i(V_i x r_i,t) / V, that is sum_i(w_i x r_i,t) with
the weights w_i = V_i / V. VaR of that series is the portfolio's VaR: the
historical method takes each period as one joint scenario of all holdings, and
the parametric one gives sigma_p^2 = sum_i sum_j w_i w_j cov_ij, Hull's
variance-covariance formula, since the sample variance of a weighted sum is that
double sum of sample covariances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from worker_trading.order_book import EXACT, QUOTIENT


@dataclass(frozen=True, slots=True)
class Holding:
    """One line of a portfolio: `value` now, and the returns of what it holds (oldest first)."""

    name: str
    value: Decimal
    returns: tuple[Decimal, ...]


def total_value(holdings: Sequence[Holding]) -> Decimal:
    return sum((h.value for h in holdings), Decimal(0))


def weights(holdings: Sequence[Holding]) -> list[Decimal]:
    """V_i / V for each holding; ValueError when the portfolio is worth nothing."""
    total = total_value(holdings)
    if total <= 0:
        raise ValueError(f"a portfolio's weights need a positive value, got {total}")
    return [QUOTIENT.divide(h.value, total) for h in holdings]


def portfolio_returns(holdings: Sequence[Holding]) -> list[Decimal]:
    """sum_i(V_i x r_i,t) / V for each period t; the holdings' series must be of one length."""
    lengths = {len(h.returns) for h in holdings}
    if len(lengths) != 1:
        raise ValueError(f"the holdings' return series differ in length: {sorted(lengths)}")
    total = total_value(holdings)
    if total <= 0:
        raise ValueError(f"a portfolio's returns need a positive value, got {total}")
    out = []
    for t in range(lengths.pop()):
        made = Decimal(0)
        for h in holdings:
            made = EXACT.add(made, EXACT.multiply(h.value, h.returns[t]))
        out.append(QUOTIENT.divide(made, total))
    return out
