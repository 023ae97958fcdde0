"""riskLimits by hand: the position limit with leverage, maxLoss's worst case, the room each leaves."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from worker_trading.processors.limits import floor_to, limits_of

D = Decimal


def job(size: str = "1000", loss: str = "100", leverage: str | None = None) -> tj.StrategyExecutionJob:
    out = tj.StrategyExecutionJob(strategy_name="momentum", exchange="binance", symbol="BTC/USD")
    out.risk_limits.max_position_size.string_value = size
    out.risk_limits.max_loss.string_value = loss
    if leverage is not None:
        out.risk_limits.max_leverage.string_value = leverage
    return out


def test_the_default_stop_is_max_loss_over_max_position_size_and_fees_count_in_the_worst_case() -> None:
    limits = limits_of(job(), {})
    assert (limits.stoploss, limits.stop_rule) == (D("0.1"), "maxLoss / maxPositionSize")
    assert limits.position_limit == 1000
    # E x s + (N + E) x f: a full position of 1000 bought at once at 0.10 % taker fee
    assert limits.worst_case_loss(D(1000), D(1000), D("0.001")) == 1000 * D("0.1") + 2000 * D("0.001") == 102
    # so the full position breaches maxLoss 100 by its fees, and the room by loss is 100 / 0.102
    by_position, by_loss = limits.room(D(0), D("0.001"))
    assert by_position == 1000
    assert by_loss == D(100) / D("0.102")  # 980.39...; Python's default 28 digits, as the code's
    assert "worst-case loss 102" in limits.breach(D(1000), D(1000), D("0.001"))
    assert limits.breach(D(980), D(980), D("0.001")) == ""  # 98 + 1.96 = 99.96


def test_a_position_already_held_takes_its_share_of_both_rooms() -> None:
    limits = limits_of(job(), {})
    # holding 500: 500 of notional left by the limit; by loss (100 - 500 x (0.1 + 0.001)) / (0.1 + 0.002)
    assert limits.room(D(500), D("0.001")) == (D(500), (D(100) - D("50.5")) / D("0.102"))


def test_leverage_multiplies_the_position_limit_not_max_loss() -> None:
    limits = limits_of(job(leverage="3"), {})
    assert limits.position_limit == 3000
    assert "maxPositionSize x maxLeverage = 3000" in limits.breach(D(3001), D(3001), D(0))
    # within 3000, the worst case still bounds it: 2000 x 0.1 + 4000 x 0.001 = 204 > 100
    assert "would exceed maxLoss 100" in limits.breach(D(2000), D(2000), D("0.001"))


@pytest.mark.parametrize(
    ("parameters", "stop", "rule"),
    [
        ({"stoploss": 0.05}, "0.05", "parameters.stoploss"),
        ({"stoploss": -0.05}, "0.05", "parameters.stoploss"),  # freqtrade writes it negative
        # a VaR of 150 on the 1000 it priced: 15 % may be lost, more than the 10 % stop
        ({"valueAtRisk": "150", "portfolioValue": 1000}, "0.15", "parameters.valueAtRisk / portfolioValue"),
        # portfolioValue defaults to maxPositionSize, what trading-svc's analysis prices
        ({"valueAtRisk": 150}, "0.15", "parameters.valueAtRisk / portfolioValue"),
        # a VaR below the stop changes nothing: the larger fraction is the worst case
        ({"valueAtRisk": 20}, "0.1", "maxLoss / maxPositionSize"),
    ],
)
def test_the_stop_fraction_is_the_larger_of_the_strategys_stop_and_the_var_fraction(
    parameters: dict[str, Any], stop: str, rule: str
) -> None:
    limits = limits_of(job(), parameters)
    assert (limits.stoploss, limits.stop_rule) == (D(stop), rule)


def test_a_stop_beyond_the_whole_position_is_bad_input() -> None:
    with pytest.raises(ValueError, match=r"stop fraction must lie in \(0, 1\]"):
        limits_of(job(), {"stoploss": 1.5})
    # maxLoss above maxPositionSize: the whole position at most
    assert limits_of(job(loss="5000"), {}).stoploss == 1


def test_sizes_round_down_to_the_step() -> None:
    assert floor_to(D("0.015387"), D("0.0001")) == D("0.0153")
    assert floor_to(D("0.00009"), D("0.0001")) == 0
    assert floor_to(D(-1), D("0.0001")) == 0
