"""Stops against freqtrade's documented examples (docs/stoploss.md), computed by hand."""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import pytest

from worker_trading.stops import (
    TrailingStop,
    stop_loss_hit,
    stop_loss_price,
    take_profit_hit,
    take_profit_price,
    walk_trailing_stop,
)


def levels(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values)


def test_trailing_stop_follows_the_highest_price_at_the_stoploss_distance() -> None:
    # freqtrade "Trailing Stop Loss": buy at 100, stoploss -10 % -> 90; price 102 -> stop
    # 102 x 0.9 = 91.8; price drops to 101 -> stop stays 91.8 and triggers at 91.8.
    settings = TrailingStop.of("-0.10")

    walk = walk_trailing_stop("100", ["102", "101", "91.8", "95"], settings)

    assert walk.initial_stop == Decimal("90")
    assert walk.stops == levels("91.8", "91.8", "91.8")
    assert walk.triggered_at == 2
    assert walk.trigger_price == Decimal("91.8")
    assert walk.highest_price == Decimal("102")


def test_trailing_stop_positive_with_no_offset_tightens_once_in_profit() -> None:
    # "custom positive loss": stoploss -10 %, trailing_stop_positive 0.02, offset 0.0.
    # Price 102 -> stop 102 x 0.98 = 99.96; 101 -> still 99.96.
    settings = TrailingStop.of("-0.10", trailing_stop_positive="0.02", trailing_stop_positive_offset="0.0")

    walk = walk_trailing_stop(100, [102, 101], settings)

    assert walk.initial_stop == Decimal("90")
    assert walk.stops == levels("99.96", "99.96")
    assert walk.triggered_at is None
    assert walk.trigger_price is None


def test_tighter_trail_applies_only_once_profit_passes_the_offset() -> None:
    # Offset 0.03: price 102 (2 % profit) -> 102 x 0.9 = 91.8; 103.5 (3.5 %) -> 103.5 x 0.98
    # = 101.43; 102 -> stays 101.43, and triggers once the price is at or below 101.43.
    settings = TrailingStop.of("-0.10", trailing_stop_positive="0.02", trailing_stop_positive_offset="0.03")

    walk = walk_trailing_stop("100", ["102", "103.5", "102", "101.43"], settings)

    assert walk.stops == levels("91.8", "101.43", "101.43", "101.43")
    assert walk.triggered_at == 3
    assert walk.trigger_price == Decimal("101.43")


def test_only_offset_is_reached_keeps_the_initial_stop_until_the_offset() -> None:
    # trailing_only_offset_is_reached: the stop stays at 90 below +3 %; at 103 it becomes
    # 103 x 0.98 = 100.94; at 101 it stays 100.94 and triggers at 100.94.
    settings = TrailingStop.of(
        "-0.10",
        trailing_stop_positive="0.02",
        trailing_stop_positive_offset="0.03",
        trailing_only_offset_is_reached=True,
    )

    walk = walk_trailing_stop("100", ["101", "102.99", "103", "101", "100.94"], settings)

    assert walk.stops == levels("90", "90", "100.94", "100.94", "100.94")
    assert walk.triggered_at == 4


def test_only_offset_without_a_positive_trail_trails_at_the_stoploss_distance() -> None:
    settings = TrailingStop.of(
        "0.10", trailing_stop_positive_offset="0.05", trailing_only_offset_is_reached=True
    )

    walk = walk_trailing_stop("100", ["104", "110", "105"], settings)

    assert walk.stops == levels("90", "99.0", "99.0")


def test_the_stop_only_ever_moves_up() -> None:
    settings = TrailingStop.of("0.05", trailing_stop_positive="0.01", trailing_stop_positive_offset="0.02")
    path = ["100", "101", "99", "103", "102", "104", "103.5", "106", "105.1"]

    walk = walk_trailing_stop("100", path, settings)

    assert all(later >= earlier for earlier, later in pairwise(walk.stops))
    assert walk.initial_stop <= walk.stops[0]


def test_a_price_below_the_initial_stop_triggers_at_once_without_moving_it() -> None:
    walk = walk_trailing_stop("100", ["89", "120"], TrailingStop.of("0.10"))

    assert walk.stops == levels("90")
    assert walk.triggered_at == 0
    assert walk.trigger_price == Decimal("89")


def test_an_empty_path_leaves_the_initial_stop() -> None:
    walk = walk_trailing_stop("250", [], TrailingStop.of("0.02"))

    assert walk.initial_stop == Decimal("245")
    assert walk.stops == ()
    assert walk.triggered_at is None
    assert walk.highest_price is None


def test_floats_are_read_as_the_decimals_they_print_as() -> None:
    assert TrailingStop.of(0.1).stoploss == Decimal("0.1")
    assert stop_loss_price(100, 0.1) == Decimal("90")


def test_stop_loss_level_and_hit() -> None:
    # entry 100, stop-loss 5 % -> 95; the sign of the ratio does not matter (freqtrade: -0.05).
    assert stop_loss_price("100", "0.05") == Decimal("95")
    assert stop_loss_price("100", "-0.05") == Decimal("95")
    assert stop_loss_hit("100", "95", "0.05")
    assert stop_loss_hit("100", "94.99", "0.05")
    assert not stop_loss_hit("100", "95.01", "0.05")


def test_take_profit_level_and_hit() -> None:
    # entry 200, take-profit 10 % -> 220.
    assert take_profit_price("200", "0.10") == Decimal("220")
    assert take_profit_hit("200", "220", "0.10")
    assert take_profit_hit("200", "221", "0.10")
    assert not take_profit_hit("200", "219.99", "0.10")


def test_amounts_with_many_digits_are_not_rounded() -> None:
    # 123456789012345678.123456789012345678 x 0.9, 37 significant digits: Python's default
    # context (28 digits) would round it.
    exact = Decimal("111111110111111110.3111111101111111102")

    assert stop_loss_price("123456789012345678.123456789012345678", "0.1") == exact


@pytest.mark.parametrize("stoploss", ["0", "1", "-1.5", "abc", "NaN", "Infinity"])
def test_refuses_a_stoploss_that_is_not_a_fraction(stoploss: str) -> None:
    with pytest.raises(ValueError, match="stoploss"):
        TrailingStop.of(stoploss)


def test_refuses_an_offset_at_or_below_the_positive_trail_as_freqtrade_does() -> None:
    with pytest.raises(ValueError, match="must be greater than trailing_stop_positive"):
        TrailingStop.of("0.10", trailing_stop_positive="0.02", trailing_stop_positive_offset="0.02")


def test_refuses_only_offset_without_an_offset() -> None:
    with pytest.raises(ValueError, match="needs trailing_stop_positive_offset above 0"):
        TrailingStop.of("0.10", trailing_stop_positive="0.02", trailing_only_offset_is_reached=True)


def test_refuses_a_negative_offset() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        TrailingStop.of("0.10", trailing_stop_positive_offset="-0.01")


@pytest.mark.parametrize("price", ["0", "-1", "x"])
def test_refuses_a_price_that_is_not_positive(price: str) -> None:
    with pytest.raises(ValueError, match=r"prices\[1\]"):
        walk_trailing_stop("100", ["101", price], TrailingStop.of("0.1"))
    with pytest.raises(ValueError, match="price"):
        stop_loss_hit("100", price, "0.05")


def test_refuses_a_take_profit_that_is_not_positive() -> None:
    with pytest.raises(ValueError, match="take_profit must be a positive fraction"):
        take_profit_price("100", "0")
