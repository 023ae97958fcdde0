"""Exit levels for position-monitoring: stop-loss, take-profit and a long's trailing stop.

The trailing stop has freqtrade's semantics (docs/stoploss.md, and the code behind it:
`IStrategy.ft_stoploss_adjust`, `Trade.adjust_stop_loss`), the ones its users know:

- the stop starts at entry * (1 - stoploss);
- at each price above the stop it is raised to price * (1 - stoploss), so it trails the
  highest price seen, and it never moves down;
- with `trailing_stop_positive`, once the profit (price / entry - 1) reaches
  `trailing_stop_positive_offset` the trail tightens to price * (1 - trailing_stop_positive);
- with `trailing_only_offset_is_reached`, the stop stays at its initial level until the
  profit reaches the offset;
- the position is closed as soon as a price is at or below the stop.

Where we differ from freqtrade, on purpose: profit is the gross price move (freqtrade's
includes fees), stop levels are exact decimals (freqtrade rounds to the exchange's price
precision), a price exactly at the offset counts as having reached it for both rules
(freqtrade compares floats with `>` for the tighter trail; its documented example - buy at
100, offset 3 %, price 103 -> stop 100.94 - is what we compute), and there is no leverage.

Ratios are fractions (0.10 = 10 %), given as Decimals, decimal strings ("0.10"), ints or
floats (read as the decimal they print as). As in freqtrade the sign of a stop ratio is
ignored: -0.10 and 0.10 both put the stop 10 % below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import Final, TypeAlias

DecimalLike: TypeAlias = Decimal | str | int | float

# Enough digits that products of contract amounts (18 + 18 digits) are never rounded.
_PRECISION: Final = 80


def to_decimal(value: DecimalLike, name: str) -> Decimal:
    """A price or ratio as an exact, finite Decimal; a float is read as the decimal it prints as."""
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"{name} must be a decimal number, got {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def _price(value: DecimalLike, name: str) -> Decimal:
    number = to_decimal(value, name)
    if number <= 0:
        raise ValueError(f"{name} must be a positive price, got {value!r}")
    return number


def _ratio(value: DecimalLike, name: str) -> Decimal:
    """A stop distance: its size, strictly between 0 and 1 (a 100 % stop is no stop)."""
    number = abs(to_decimal(value, name))
    if not 0 < number < 1:
        raise ValueError(f"{name} must be a fraction between 0 and 1 (0.10 for 10 %), got {value!r}")
    return number


def stop_loss_price(entry: DecimalLike, stop_loss: DecimalLike) -> Decimal:
    """The price at or below which a long is stopped out: entry * (1 - |stop_loss|)."""
    with localcontext(prec=_PRECISION):
        return _price(entry, "entry") * (1 - _ratio(stop_loss, "stop_loss"))


def take_profit_price(entry: DecimalLike, take_profit: DecimalLike) -> Decimal:
    """The price at or above which a long takes its profit: entry * (1 + take_profit)."""
    target = to_decimal(take_profit, "take_profit")
    if target <= 0:
        raise ValueError(f"take_profit must be a positive fraction (0.05 for 5 %), got {take_profit!r}")
    with localcontext(prec=_PRECISION):
        return _price(entry, "entry") * (1 + target)


def stop_loss_hit(entry: DecimalLike, price: DecimalLike, stop_loss: DecimalLike) -> bool:
    """Whether `price` is at or below the long's stop-loss level (freqtrade closes at equality)."""
    return _price(price, "price") <= stop_loss_price(entry, stop_loss)


def take_profit_hit(entry: DecimalLike, price: DecimalLike, take_profit: DecimalLike) -> bool:
    """Whether `price` is at or above the long's take-profit level."""
    return _price(price, "price") >= take_profit_price(entry, take_profit)


@dataclass(frozen=True, slots=True)
class TrailingStop:
    """freqtrade's trailing-stop settings for a long, validated as freqtrade validates its config."""

    stoploss: Decimal  # initial distance below entry, and the trail before the offset
    trailing_stop_positive: Decimal | None = None  # the tighter trail once the offset is reached
    trailing_stop_positive_offset: Decimal = Decimal(0)  # profit that switches to the tighter trail
    trailing_only_offset_is_reached: bool = False  # keep the initial stop until the offset

    @classmethod
    def of(
        cls,
        stoploss: DecimalLike,
        *,
        trailing_stop_positive: DecimalLike | None = None,
        trailing_stop_positive_offset: DecimalLike = 0,
        trailing_only_offset_is_reached: bool = False,
    ) -> TrailingStop:
        """Settings from job parameters (strings or numbers); ValueError names a bad one."""
        positive = (
            None
            if trailing_stop_positive is None
            else _ratio(trailing_stop_positive, "trailing_stop_positive")
        )
        offset = to_decimal(trailing_stop_positive_offset, "trailing_stop_positive_offset")
        if offset < 0:
            raise ValueError(f"trailing_stop_positive_offset must not be negative, got {offset}")
        if trailing_only_offset_is_reached and offset == 0:
            raise ValueError("trailing_only_offset_is_reached needs trailing_stop_positive_offset above 0")
        if positive is not None and 0 < offset <= positive:
            # freqtrade refuses this too: the tighter stop would sit below the entry price.
            raise ValueError(
                f"trailing_stop_positive_offset ({offset}) must be greater than "
                f"trailing_stop_positive ({positive})"
            )
        return cls(_ratio(stoploss, "stoploss"), positive, offset, trailing_only_offset_is_reached)

    def initial_stop(self, entry: Decimal) -> Decimal:
        """Where the stop starts: entry * (1 - stoploss)."""
        with localcontext(prec=_PRECISION):
            return entry * (1 - self.stoploss)

    def next_stop(self, entry: Decimal, stop: Decimal, price: Decimal) -> Decimal:
        """The stop after seeing `price`: raised if the trail from `price` is higher, else kept."""
        if price <= stop:  # freqtrade adjusts only while the price is above the stop
            return stop
        with localcontext(prec=_PRECISION):
            profit = price / entry - 1
            if self.trailing_only_offset_is_reached and profit < self.trailing_stop_positive_offset:
                return stop
            distance = self.stoploss
            if self.trailing_stop_positive is not None and profit >= self.trailing_stop_positive_offset:
                distance = self.trailing_stop_positive
            return max(stop, price * (1 - distance))


@dataclass(frozen=True, slots=True)
class TrailingStopWalk:
    """A trailing stop walked along a price path: the level after each price, and the exit."""

    entry: Decimal
    initial_stop: Decimal
    stops: tuple[Decimal, ...]  # stops[i]: the level after prices[i]; ends at the trigger
    triggered_at: int | None  # index of the first price at or below the stop, None if never
    trigger_price: Decimal | None  # that price
    highest_price: Decimal | None  # the highest price seen up to the exit (None for no prices)


def walk_trailing_stop(
    entry: DecimalLike, prices: Iterable[DecimalLike], settings: TrailingStop
) -> TrailingStopWalk:
    """Follow `settings` over `prices` (one price per step, e.g. closes or ticks) from `entry`.

    At each price the stop is first adjusted, then checked, as freqtrade does: a price at
    or below the stop closes the position there and the walk ends, so `stops` has one
    level per price seen up to and including the trigger.
    """
    start = _price(entry, "entry")
    stop = settings.initial_stop(start)
    initial = stop
    stops: list[Decimal] = []
    highest: Decimal | None = None
    for index, raw in enumerate(prices):
        price = _price(raw, f"prices[{index}]")
        highest = price if highest is None else max(highest, price)
        stop = settings.next_stop(start, stop, price)
        stops.append(stop)
        if price <= stop:
            return TrailingStopWalk(start, initial, tuple(stops), index, price, highest)
    return TrailingStopWalk(start, initial, tuple(stops), None, None, highest)
