"""What every risk-analysis type shares: its VaR settings, its return series, its VaR in the result.

Settings come from `parameters`: confidence (0.99), horizonDays (1) and method
("historical", or "parametric"). Both methods are computed; the result states
the one asked for and shows the other among its figures, so either can be
checked by hand (risk.py gives each rule). Returns are `parameters.returns` when
the job feeds them, else the simple returns of the venue's latest closes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from jobmesh.jobs.v1 import trading_results_pb2 as tr
from worker_trading.exchange import Exchange
from worker_trading.processors.inputs import decimal, decimals, shown
from worker_trading.risk import ValueAtRisk, VarMethod, historical_var, parametric_var

CANDLES: Final = 251  # 250 daily-style returns, Hull's usual window of scenarios
CENT: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class VarSettings:
    confidence: Decimal
    horizon_days: int
    method: VarMethod

    @classmethod
    def of(cls, p: dict[str, Any]) -> VarSettings:
        method = str(p.get("method", VarMethod.HISTORICAL))
        if method not in tuple(VarMethod):
            raise ValueError(f"parameters.method must be historical or parametric, got {method!r}")
        return cls(
            decimal(p.get("confidence", 0.99), "confidence"), int(p.get("horizonDays", 1)), VarMethod(method)
        )

    def both(self, returns: Sequence[Decimal], value: Decimal) -> tuple[ValueAtRisk, ValueAtRisk]:
        """(the chosen method's estimate, the other's)."""
        historical = historical_var(returns, value, self.confidence, self.horizon_days)
        parametric = parametric_var(returns, value, self.confidence, self.horizon_days)
        if self.method is VarMethod.PARAMETRIC:
            return parametric, historical
        return historical, parametric

    def chosen(self, returns: Sequence[Decimal], value: Decimal) -> ValueAtRisk:
        estimate = historical_var if self.method is VarMethod.HISTORICAL else parametric_var
        return estimate(returns, value, self.confidence, self.horizon_days)


async def venue_returns(exchange: Exchange, venue: str, symbol: str) -> list[Decimal]:
    """Simple returns of the venue's latest CANDLES closes."""
    closes = [c.close for c in await exchange.candles(venue, symbol, CANDLES)]
    return [b / a - 1 for a, b in itertools.pairwise(closes)]


async def returns_of(p: dict[str, Any], exchange: Exchange, venue: str, symbol: str) -> list[Decimal]:
    """`parameters.returns` when fed, else the venue's."""
    if "returns" in p:
        return decimals(p["returns"], "returns")
    return await venue_returns(exchange, venue, symbol)


def put_var(
    result: tr.RiskAnalysisResult, settings: VarSettings, returns: Sequence[Decimal], value: Decimal
) -> tuple[ValueAtRisk | None, dict[str, object]]:
    """Fill the result's VaR fields for `value` over `returns`: the chosen estimate, and the
    figures of both methods.

    A value of 0 (nothing held) risks nothing: VaR and ES are 0 and no method runs.
    """
    result.confidence, result.horizon_days = float(settings.confidence), settings.horizon_days
    result.method, result.portfolio_value = str(settings.method), shown(value)
    result.observations = len(returns)
    if value == 0:
        result.value_at_risk = result.expected_shortfall = "0.00"
        return None, {}
    chosen, other = settings.both(returns, value)
    result.value_at_risk, result.expected_shortfall = money(chosen.var), money(chosen.expected_shortfall)
    result.rule = chosen.quantile_rule
    return chosen, {str(chosen.method): every(chosen), str(other.method): every(other)}


def money(x: float) -> str:
    """An estimate shown to the cent."""
    return str(Decimal(repr(x)).quantize(CENT))


def every(v: ValueAtRisk) -> dict[str, object]:
    return {
        "var": v.var,
        "expectedShortfall": v.expected_shortfall,
        "tailRank": v.tail_rank,
        "z": v.z,
        "mean": v.mean,
        "stdev": v.stdev,
        "rule": v.quantile_rule,
    }
