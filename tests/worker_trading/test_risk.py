"""VaR and expected shortfall against Hull's worked figures and examples computed by hand."""

from __future__ import annotations

import math
from decimal import Decimal
from statistics import NormalDist

import pytest

from worker_trading.risk import VarMethod, historical_var, parametric_var

TEN_MILLION = 10_000_000


def returns_with(mean: float, stdev: float) -> list[float]:
    """Two returns whose mean is `mean` and sample (n - 1) standard deviation is `stdev`.

    With r = mean +- a the sample variance is (a^2 + a^2) / (2 - 1), so a = stdev / sqrt(2).
    """
    a = stdev / math.sqrt(2)
    return [mean + a, mean - a]


def phi(x: float) -> float:
    """The standard normal density, written out: exp(-x^2 / 2) / sqrt(2 pi)."""
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


# Parametric: Hull, "Options, Futures and Other Derivatives", the Microsoft example: a $10
# million position, daily volatility 2 %, mean 0. sigma of the daily change = $200,000;
# 1-day 99 % VaR = 2.326 x 200,000 = $465,300; 10-day = 465,300 x sqrt(10) = $1,471,300.
# Hull rounds to the nearest $100, hence the tolerance of 50.


def test_hull_one_day_99_percent_var_of_ten_million_at_2_percent_daily() -> None:
    result = parametric_var(returns_with(0.0, 0.02), TEN_MILLION, confidence=0.99, horizon_days=1)

    assert result.stdev == pytest.approx(0.02)
    assert result.mean == pytest.approx(0.0)
    assert result.z == pytest.approx(2.326, abs=0.0005)  # N^-1(0.99), as in Hull's table
    assert result.var == pytest.approx(465_300, abs=50)


def test_hull_ten_day_var_is_the_one_day_var_times_root_ten() -> None:
    result = parametric_var(returns_with(0.0, 0.02), TEN_MILLION, confidence=0.99, horizon_days=10)

    assert result.var == pytest.approx(1_471_300, abs=50)
    assert result.horizon_days == 10


def test_parametric_var_subtracts_the_mean_return() -> None:
    # mu = 0.001, sigma = 0.02: VaR = (z * sigma - mu) * V = (2.32635 * 0.02 - 0.001) * 10M
    z = NormalDist().inv_cdf(0.99)
    expected = (z * 0.02 - 0.001) * TEN_MILLION  # about 455,270

    result = parametric_var(returns_with(0.001, 0.02), TEN_MILLION, confidence=0.99)

    assert result.var == pytest.approx(expected, rel=1e-9)
    assert result.var == pytest.approx(465_270 - 10_000, abs=5)


def test_parametric_expected_shortfall_is_the_normal_closed_form() -> None:
    # ES = (sigma * phi(z) / (1 - c) - mu) * V * sqrt(h), phi written out by hand above.
    z = 2.3263478740408408  # N^-1(0.99)
    expected = (0.02 * phi(z) / 0.01 - 0.001) * TEN_MILLION * math.sqrt(10)

    result = parametric_var(returns_with(0.001, 0.02), TEN_MILLION, confidence=0.99, horizon_days=10)

    assert result.expected_shortfall == pytest.approx(expected, rel=1e-9)
    assert result.expected_shortfall > result.var


def test_normal_97_5_percent_es_is_about_the_99_percent_var() -> None:
    # The known ratios behind Basel's move from 99 % VaR to 97.5 % ES:
    # ES(97.5 %) = phi(1.960) / 0.025 = 2.338 sigma, next to VaR(99 %) = 2.326 sigma.
    es = parametric_var(returns_with(0.0, 0.02), TEN_MILLION, confidence=0.975)
    var = parametric_var(returns_with(0.0, 0.02), TEN_MILLION, confidence=0.99)
    sigma_v = 0.02 * TEN_MILLION

    assert es.expected_shortfall / sigma_v == pytest.approx(phi(1.959964) / 0.025, abs=1e-5)
    assert es.expected_shortfall / sigma_v == pytest.approx(2.338, abs=0.001)
    assert var.var / sigma_v == pytest.approx(2.326, abs=0.001)


def test_parametric_result_carries_every_figure_of_the_formula() -> None:
    result = parametric_var([0.01, -0.02, 0.005, -0.004], Decimal("250000"), confidence=Decimal("0.95"))

    assert result.method is VarMethod.PARAMETRIC
    assert str(result.method) == "parametric"
    assert result.confidence == 0.95
    assert result.observations == 4
    assert result.portfolio_value == 250_000.0
    assert result.tail_rank is None
    assert "z*sigma - mu" in result.quantile_rule


# Historical: Hull's rule, k = ceil(N (1 - c)): "with 500 scenarios the 99 % VaR is the
# 5th worst loss". Losses are -return * V, reported positive.

# Twenty daily returns, worked by hand below.
TWENTY = [
    0.004, -0.012, 0.007, 0.001, -0.031, 0.015, -0.006, 0.002, 0.009, -0.018,
    0.011, -0.003, 0.006, -0.022, 0.013, 0.000, -0.009, 0.005, 0.010, -0.001,
]  # fmt: skip
# Sorted losses for V = 1,000,000, worst first: 31,000  22,000  18,000  12,000  9,000 ...


def test_twenty_returns_at_95_percent_is_the_worst_loss() -> None:
    # k = ceil(20 x 0.05) = 1: the worst loss, 0.031 x 1,000,000; ES = the same single loss.
    result = historical_var(TWENTY, 1_000_000, confidence=0.95)

    assert result.tail_rank == 1
    assert result.var == pytest.approx(31_000)
    assert result.expected_shortfall == pytest.approx(31_000)


def test_twenty_returns_at_90_percent_is_the_second_worst_loss() -> None:
    # k = ceil(20 x 0.10) = 2: VaR = 22,000; ES = (31,000 + 22,000) / 2 = 26,500.
    result = historical_var(TWENTY, 1_000_000, confidence=0.90)

    assert result.tail_rank == 2
    assert result.var == pytest.approx(22_000)
    assert result.expected_shortfall == pytest.approx(26_500)


def test_twenty_returns_at_80_percent_over_four_days_scales_by_two() -> None:
    # k = ceil(20 x 0.20) = 4: VaR = 12,000 x sqrt(4); ES = (31 + 22 + 18 + 12) / 4 x 1,000 x 2.
    result = historical_var(TWENTY, 1_000_000, confidence=0.80, horizon_days=4)

    assert result.tail_rank == 4
    assert result.var == pytest.approx(24_000)
    assert result.expected_shortfall == pytest.approx(41_500)


def test_five_hundred_scenarios_at_99_percent_take_the_fifth_worst_loss() -> None:
    # 500 x (1 - 0.99) is 5.000000000000004 in binary floating point; the rank must be 5.
    worst = [-0.05, -0.04, -0.03, -0.025, -0.02]
    rest = [(i % 21 - 10) / 1000 for i in range(495)]  # between -1 % and +1 %
    returns = rest[:200] + worst + rest[200:]

    result = historical_var(returns, TEN_MILLION, confidence=0.99)

    assert result.observations == 500
    assert result.tail_rank == 5
    assert result.var == pytest.approx(200_000)  # 0.02 x 10M, the 5th worst
    assert result.expected_shortfall == pytest.approx((500_000 + 400_000 + 300_000 + 250_000 + 200_000) / 5)


def test_historical_var_is_negative_when_even_the_tail_is_a_gain() -> None:
    result = historical_var([0.01, 0.02, 0.03], 100_000, confidence=0.5)

    assert result.tail_rank == 2  # ceil(3 x 0.5)
    assert result.var == pytest.approx(-2_000)  # the 2nd worst outcome is a 2,000 gain


def test_historical_result_names_its_rule_and_accepts_decimals() -> None:
    result = historical_var(
        [Decimal("-0.031"), Decimal("0.01")], Decimal("1000000"), confidence=Decimal("0.5")
    )

    assert result.method is VarMethod.HISTORICAL
    assert result.var == pytest.approx(31_000)
    assert result.z is None
    assert result.mean is None
    assert result.stdev is None
    assert "ceil(N*(1-c))" in result.quantile_rule


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1, float("nan")])
def test_refuses_a_confidence_outside_0_to_1(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence must lie strictly between 0 and 1"):
        historical_var(TWENTY, 1_000, confidence=confidence)
    with pytest.raises(ValueError, match="confidence must lie strictly between 0 and 1"):
        parametric_var(TWENTY, 1_000, confidence=confidence)


@pytest.mark.parametrize("horizon", [0, -1])
def test_refuses_a_horizon_below_one_day(horizon: int) -> None:
    with pytest.raises(ValueError, match="horizon_days"):
        historical_var(TWENTY, 1_000, horizon_days=horizon)


@pytest.mark.parametrize("value", [0, -5, float("inf")])
def test_refuses_a_portfolio_value_that_is_not_positive(value: float) -> None:
    with pytest.raises(ValueError, match="portfolio_value"):
        parametric_var(TWENTY, value)


def test_refuses_too_few_returns() -> None:
    with pytest.raises(ValueError, match=r"at least 1 return\(s\), got 0"):
        historical_var([], 1_000)
    with pytest.raises(ValueError, match=r"at least 2 return\(s\), got 1"):
        parametric_var([0.01], 1_000)


def test_refuses_a_return_that_is_not_finite() -> None:
    with pytest.raises(ValueError, match="return 1 must be a finite number"):
        historical_var([0.01, float("inf")], 1_000)
