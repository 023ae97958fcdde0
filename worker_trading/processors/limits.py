"""A strategy-execution job's riskLimits, as every strategy applies them before it orders.

Two rules, both in quote currency and both checked before an order is sent:

Position limit. The exposure after the order, E (what the account holds in the
symbol plus the order, valued at the venue's price now), stays within
maxPositionSize x maxLeverage (maxLeverage 1 when unset): leverage lets exposure
exceed the capital set aside, never the venue's cash (a spot venue still refuses a
buy beyond the wallet).

maxLoss. The order is placed only if the worst case of the exposure it leaves stays
within maxLoss. The worst case is the strategy's stop firing:

    worst-case loss = E x s + (N + E) x f

the move down to the stop (a fraction s below the price now) on the whole exposure,
plus the taker fee f on this order's notional N and on selling the whole exposure
(at most its value now). The stop fraction s is the larger of:

- the strategy's stop: `parameters.stoploss` (a fraction, its sign ignored as
  freqtrade's), else maxLoss / maxPositionSize capped at 1, the stop trading-svc's
  position monitor puts under the position; and
- the analysis' VaR, when the job passes one: `parameters.valueAtRisk` over
  `parameters.portfolioValue` (maxPositionSize when unset, the value trading-svc's
  analysis prices), the fraction of the value the analysis says may be lost.

The rule bounds what the order can still add: fees already paid are not counted,
and a gap through the stop (a fill below it) is beyond it. With the default stop a
full position (E = maxPositionSize) loses exactly maxLoss before fees, so the fees
put it over: a strategy that sizes its own order stays a little below the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from queue_system.decimals import amount_of
from worker_trading.order_book import EXACT, QUOTIENT
from worker_trading.processors.inputs import decimal, shown

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Limits:
    """The figures the two rules use (see the module docstring)."""

    max_position_size: Decimal
    leverage: Decimal
    max_loss: Decimal
    stoploss: Decimal  # s, the larger of the strategy's stop and the VaR fraction
    stop_rule: str  # where s came from, in words

    @property
    def position_limit(self) -> Decimal:
        """maxPositionSize x maxLeverage."""
        return EXACT.multiply(self.max_position_size, self.leverage)

    def worst_case_loss(self, exposure: Decimal, notional: Decimal, fee: Decimal) -> Decimal:
        """E x s + (N + E) x f."""
        fees = EXACT.multiply(EXACT.add(notional, exposure), fee)
        return EXACT.add(EXACT.multiply(exposure, self.stoploss), fees)

    def room(self, held: Decimal, fee: Decimal) -> tuple[Decimal, Decimal]:
        """The largest new notional N within each rule, given `held` exposure: (position, loss).

        Position: N <= limit - H. Loss: (H + N) s + (N + H + N) f <= maxLoss, so
        N <= (maxLoss - H (s + f)) / (s + 2f). Either may be negative: no room.
        """
        by_position = EXACT.subtract(self.position_limit, held)
        spent = EXACT.multiply(held, EXACT.add(self.stoploss, fee))
        per_unit = EXACT.add(self.stoploss, EXACT.multiply(2, fee))
        by_loss = QUOTIENT.divide(EXACT.subtract(self.max_loss, spent), per_unit)
        return by_position, by_loss

    def breach(self, exposure: Decimal, notional: Decimal, fee: Decimal) -> str:
        """Why an order of `notional` leaving `exposure` is refused ('' when it is within both rules)."""
        if exposure > self.position_limit:
            return (
                f"exposure after the order {shown(exposure)} would exceed maxPositionSize x maxLeverage "
                f"= {shown(self.position_limit)}"
            )
        loss = self.worst_case_loss(exposure, notional, fee)
        if loss > self.max_loss:
            return (
                f"worst-case loss {shown(loss)} = exposure {shown(exposure)} x stop {shown(self.stoploss)} "
                f"+ (order {shown(notional)} + exposure {shown(exposure)}) x fee {shown(fee)} would exceed "
                f"maxLoss {shown(self.max_loss)}"
            )
        return ""


def limits_of(job: tj.StrategyExecutionJob, p: dict[str, Any]) -> Limits:
    """The job's riskLimits and stop fraction (`p` is its parameters as plain values)."""
    rl = job.risk_limits
    size, max_loss = amount_of(rl.max_position_size), amount_of(rl.max_loss)
    leverage = amount_of(rl.max_leverage) if rl.HasField("max_leverage") else ONE
    if "stoploss" in p:
        stop, rule = abs(decimal(p["stoploss"], "stoploss")), "parameters.stoploss"
    else:
        stop, rule = min(ONE, QUOTIENT.divide(max_loss, size)), "maxLoss / maxPositionSize"
    if "valueAtRisk" in p:
        value = decimal(p.get("portfolioValue", format(size, "f")), "portfolioValue")
        if value <= 0:
            raise ValueError(f"parameters.portfolioValue must be positive, got {value}")
        var = QUOTIENT.divide(decimal(p["valueAtRisk"], "valueAtRisk"), value)
        if var > stop:
            stop, rule = var, "parameters.valueAtRisk / portfolioValue"
    if not 0 < stop <= 1:
        raise ValueError(f"the stop fraction must lie in (0, 1], got {stop} ({rule})")
    return Limits(size, leverage, max_loss, stop, rule)


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """`value` rounded down to a multiple of `step` (0 when negative): an order size a venue takes."""
    if value <= 0:
        return Decimal(0)
    return EXACT.multiply(EXACT.divide(value, step).to_integral_value(rounding=ROUND_DOWN), step)
