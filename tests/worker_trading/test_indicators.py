"""RSI against published worked examples and against Wilder's averages redone by hand."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import pytest

from worker_trading.indicators import RsiSignal, rsi, rsi_signal

# StockCharts ChartSchool, "Relative Strength Index (RSI)", its spreadsheet cs-rsi.xls:
# QQQQ closes (the page's table shows them rounded to 2 decimals) and its 14-day RSI column.
# https://chartschool.stockcharts.com/table-of-contents/technical-indicators-and-overlays/technical-indicators/relative-strength-index-rsi
STOCKCHARTS_CLOSES = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826,
    45.8931, 46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439,
    46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672,
    43.4205, 42.6628, 43.1314,
]  # fmt: skip
STOCKCHARTS_RSI_14 = [
    70.5328, 66.3186, 66.5498, 69.4063, 66.3552, 57.9749, 62.9296, 63.2571, 56.0593, 62.3771,
    54.7076, 50.4228, 39.9898, 41.4605, 41.8689, 45.4632, 37.3040, 33.0795, 37.7730,
]  # fmt: skip
TOLERANCE = 0.01


def test_matches_the_stockcharts_worked_example_value_for_value() -> None:
    values = rsi(STOCKCHARTS_CLOSES, 14)

    assert values[:14] == [None] * 14  # TA-Lib's lookback: the first RSI needs 14 changes
    assert values[14:] == pytest.approx(STOCKCHARTS_RSI_14, abs=TOLERANCE)


def test_the_page_two_decimal_closes_give_70_46_as_wilder_computed_by_hand() -> None:
    # The ChartSchool table prints the closes rounded (44.34, 44.09, ...); from those
    # rounded closes the first RSI is 70.46, not the spreadsheet's 70.53. By hand:
    closes = [
        44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42,
        45.84, 46.08, 45.89, 46.03, 45.61, 46.28, 46.28,
    ]  # fmt: skip
    changes = [
        "-0.25", "0.06", "-0.54", "0.72", "0.50", "0.27", "0.32", "0.42", "0.24", "-0.19", "0.14", "-0.42",
        "0.67", "0.00",
    ]  # fmt: skip
    moves = [Fraction(str(b)) - Fraction(str(a)) for a, b in pairwise(closes)]
    assert moves == [Fraction(c) for c in changes]
    gains = sum(Fraction(c) for c in changes if Fraction(c) > 0)  # 3.34
    losses = -sum(Fraction(c) for c in changes if Fraction(c) < 0)  # 1.40
    assert (gains, losses) == (Fraction("3.34"), Fraction("1.40"))
    expected = 100 * (gains / 14) / (gains / 14 + losses / 14)  # 100 * 3.34 / 4.74 = 70.4641

    first = rsi(closes, 14)[14]

    assert first == pytest.approx(float(expected), abs=TOLERANCE)
    assert first == pytest.approx(70.46, abs=TOLERANCE)


def test_short_series_follows_wilder_averages_step_by_step() -> None:
    closes = ["10", "11", "10.5", "12", "11", "11.5", "11.5"]
    n = 3
    moves = [Fraction(b) - Fraction(a) for a, b in pairwise(closes)]
    # first averages: simple means of the first n moves (+1, -0.5, +1.5)
    avg_gain = Fraction(1 + Fraction("1.5"), n)  # 2.5 / 3
    avg_loss = Fraction(Fraction("0.5"), n)  # 0.5 / 3
    expected = [100 * avg_gain / (avg_gain + avg_loss)]  # 83.33
    for move in moves[n:]:  # -1, +0.5, 0: each next average is (prev * (n - 1) + current) / n
        avg_gain = (avg_gain * (n - 1) + max(move, Fraction(0))) / n
        avg_loss = (avg_loss * (n - 1) + max(-move, Fraction(0))) / n
        expected.append(100 * avg_gain / (avg_gain + avg_loss))
    assert [round(float(v), 4) for v in expected] == [83.3333, 55.5556, 64.4444, 64.4444]

    values = rsi([Decimal(c) for c in closes], n)

    assert values[:n] == [None, None, None]
    assert values[n:] == pytest.approx([float(v) for v in expected], abs=1e-9)


def test_is_not_an_ewm_seeded_at_the_first_bar() -> None:
    # The mistake the issue warns about: smoothing with alpha = 1/n from the first move
    # on, instead of seeding with the simple average of the first n moves.
    alpha = 1 / 14
    moves = [b - a for a, b in pairwise(STOCKCHARTS_CLOSES)]
    ewm_gain, ewm_loss = max(moves[0], 0.0), max(-moves[0], 0.0)
    for move in moves[1:14]:
        ewm_gain = (1 - alpha) * ewm_gain + alpha * max(move, 0.0)
        ewm_loss = (1 - alpha) * ewm_loss + alpha * max(-move, 0.0)
    ewm_first = 100 * ewm_gain / (ewm_gain + ewm_loss)  # about 50.75

    first = rsi(STOCKCHARTS_CLOSES, 14)[14]

    assert first is not None
    assert first == pytest.approx(70.5328, abs=TOLERANCE)
    assert abs(first - ewm_first) > 10


def test_only_gains_read_100_and_only_losses_read_0() -> None:
    assert rsi([float(p) for p in range(1, 21)], 14)[14:] == [100.0] * 6
    assert rsi([float(p) for p in range(20, 0, -1)], 14)[14:] == [0.0] * 6


def test_no_movement_reads_0_as_ta_lib_returns() -> None:
    assert rsi([42.0] * 16, 14)[14:] == [0.0, 0.0]


def test_decimals_and_floats_give_the_same_reading() -> None:
    as_decimals = [Decimal(str(c)) for c in STOCKCHARTS_CLOSES]

    assert rsi(as_decimals, 14) == rsi(STOCKCHARTS_CLOSES, 14)


@pytest.mark.parametrize("period", [1, 0, -3])
def test_refuses_a_period_below_2(period: int) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        rsi([1.0, 2.0, 3.0], period)


def test_refuses_too_few_closes_and_says_how_many_it_needs() -> None:
    with pytest.raises(ValueError, match=r"needs at least 15 closes \(14 price changes\), got 14"):
        rsi([1.0] * 14, 14)


def test_refuses_a_close_that_is_not_finite() -> None:
    with pytest.raises(ValueError, match="close 2 must be a finite number"):
        rsi([1.0, 2.0, float("nan"), 3.0], 2)


@pytest.mark.parametrize(
    ("reading", "signal"),
    [
        (70.53, RsiSignal.OVERBOUGHT),
        (70.0, RsiSignal.NEUTRAL),  # "above 70" is overbought; 70 itself is not
        (50.0, RsiSignal.NEUTRAL),
        (30.0, RsiSignal.NEUTRAL),
        (29.99, RsiSignal.OVERSOLD),
        (0.0, RsiSignal.OVERSOLD),
    ],
)
def test_signal_uses_70_and_30_by_default(reading: float, signal: RsiSignal) -> None:
    assert rsi_signal(reading) is signal


def test_signal_levels_are_configurable() -> None:
    assert rsi_signal(75.0, overbought=80, oversold=20) is RsiSignal.NEUTRAL
    assert rsi_signal(81.0, overbought=80, oversold=20) is RsiSignal.OVERBOUGHT
    assert rsi_signal(19.0, overbought=80, oversold=20) is RsiSignal.OVERSOLD
    assert rsi_signal(19.0, overbought=80, oversold=20) == "oversold"  # what a job result shows


@pytest.mark.parametrize(
    ("overbought", "oversold"), [(30.0, 70.0), (50.0, 50.0), (101.0, 30.0), (70.0, -1.0)]
)
def test_signal_refuses_levels_out_of_order(overbought: float, oversold: float) -> None:
    with pytest.raises(ValueError, match="0 <= oversold < overbought <= 100"):
        rsi_signal(50.0, overbought=overbought, oversold=oversold)


@pytest.mark.parametrize("reading", [-0.1, 100.1, float("nan")])
def test_signal_refuses_a_reading_outside_0_to_100(reading: float) -> None:
    with pytest.raises(ValueError, match=r"lies in 0\.\.100"):
        rsi_signal(reading)
