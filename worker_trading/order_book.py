"""Order books and the paper exchange's deterministic market: books, fills, price paths.

An `OrderBook` is immutable and refuses to exist unsorted or crossed, so every
consumer (the arbitrage walk, the paper exchange's fills) can walk its levels
without re-checking them. Prices and amounts are `Decimal` end to end: an order
size must never be rounded by binary floating point.

The paper exchange needs a market that is the same on every run, on every machine
and in every process: `synthetic_book` and `price_path` are pure functions of
their inputs. Their randomness comes from SHA-256 of a text key (never Python's
salted `hash()`, never `random`'s version-dependent distributions), and their
arithmetic runs in an explicit decimal context, whose `exp`, `ln` and `sqrt` are
correctly rounded, so no platform's libm can change a price.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from enum import StrEnum
from types import MappingProxyType
from typing import Final, NamedTuple, TypeAlias

# Sums and products of contract amounts (at most 36 digits each, see
# queue_system/decimals.py) stay exact at this precision.
EXACT: Final = Context(prec=80, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
# Quotients (VWAPs, percentages) cannot always be exact; they keep 28 significant digits.
QUOTIENT: Final = Context(
    prec=28, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow]
)

_BPS: Final = Decimal(10_000)
_TWO_TO_64: Final = Decimal(2**64)


class Side(StrEnum):
    """The taker's side, as ccxt spells it: a buy consumes asks, a sell consumes bids."""

    BUY = "buy"
    SELL = "sell"


class Level(NamedTuple):
    """One price level: `amount` of base currency resting at `price` (quote per base)."""

    price: Decimal
    amount: Decimal


LevelInput: TypeAlias = tuple[Decimal | int | str, Decimal | int | str]


def _decimal(value: Decimal | int | str, what: str) -> Decimal:
    # A float would carry its binary expansion into a price; refuse it rather than guess.
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(f"{what} must be a Decimal, int or decimal string, got {type(value).__name__}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    return number


def _checked_side(levels: tuple[Level, ...], name: str, descending: bool) -> None:
    if not levels:
        raise ValueError(f"order book has no {name}")
    for index, level in enumerate(levels):
        if not isinstance(level, Level):
            raise TypeError(f"{name}[{index}] must be a Level, got {type(level).__name__}")
        price, amount = level
        if not (isinstance(price, Decimal) and price.is_finite() and price > 0):
            raise ValueError(f"{name}[{index}] price must be a positive finite Decimal, got {price!r}")
        if not (isinstance(amount, Decimal) and amount.is_finite() and amount > 0):
            raise ValueError(f"{name}[{index}] amount must be a positive finite Decimal, got {amount!r}")
        if index:
            previous = levels[index - 1].price
            in_order = price < previous if descending else price > previous
            if not in_order:
                order = "descending" if descending else "ascending"
                raise ValueError(
                    f"{name} must be strictly {order} by price: {name}[{index}] is {price} after {previous}"
                )


@dataclass(frozen=True, slots=True)
class Fill:
    """What a market order of `requested` would get by walking one side of a book.

    `filled + remaining == requested` (ccxt's `amount = filled + remaining`); `cost` is
    the exact quote amount, `vwap` = cost / filled; `levels_used` counts the levels the
    walk touched, the last one possibly in part.
    """

    requested: Decimal
    filled: Decimal
    cost: Decimal
    vwap: Decimal
    levels_used: int

    @property
    def remaining(self) -> Decimal:
        """What the book's depth could not fill (0 when the fill is complete)."""
        return EXACT.subtract(self.requested, self.filled)

    @property
    def complete(self) -> bool:
        return self.filled == self.requested


@dataclass(frozen=True, slots=True)
class OrderBook:
    """One exchange's book for one symbol: bids best (highest) first, asks best (lowest) first.

    Construction refuses what would silently corrupt every walk over it: an empty side,
    a non-positive price or amount, a side out of order or with a repeated price, and a
    crossed or locked book (best bid >= best ask), which no single venue can show.
    """

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]

    def __post_init__(self) -> None:
        _checked_side(self.bids, "bids", descending=True)
        _checked_side(self.asks, "asks", descending=False)
        if self.bids[0].price >= self.asks[0].price:
            state = "crossed" if self.bids[0].price > self.asks[0].price else "locked"
            raise ValueError(
                f"order book is {state}: best bid {self.bids[0].price} >= best ask {self.asks[0].price}"
            )

    @classmethod
    def from_levels(cls, bids: Iterable[LevelInput], asks: Iterable[LevelInput]) -> OrderBook:
        """A book from (price, amount) pairs as Decimals, ints or decimal strings (never floats)."""

        def levels(pairs: Iterable[LevelInput], name: str) -> tuple[Level, ...]:
            return tuple(
                Level(_decimal(price, f"{name}[{i}] price"), _decimal(amount, f"{name}[{i}] amount"))
                for i, (price, amount) in enumerate(pairs)
            )

        return cls(bids=levels(bids, "bids"), asks=levels(asks, "asks"))

    @property
    def best_bid(self) -> Level:
        return self.bids[0]

    @property
    def best_ask(self) -> Level:
        return self.asks[0]

    @property
    def mid(self) -> Decimal:
        """(best bid + best ask) / 2, exact."""
        return EXACT.divide(EXACT.add(self.bids[0].price, self.asks[0].price), 2)

    @property
    def spread(self) -> Decimal:
        """best ask - best bid, in quote currency; always > 0 for a valid book."""
        return EXACT.subtract(self.asks[0].price, self.bids[0].price)

    def levels_for(self, side: Side) -> tuple[Level, ...]:
        """The levels a taker on `side` consumes, best first: asks for a buy, bids for a sell."""
        return self.asks if side is Side.BUY else self.bids

    def vwap_to_fill(self, side: Side, amount: Decimal) -> Fill:
        """Walk the levels a taker order of `amount` would consume, best price first.

        When the book is shallower than `amount`, the fill is partial: `filled` is the
        whole depth and `remaining` says what is missing, so a caller decides whether a
        partial fill is acceptable rather than this function inventing liquidity.
        """
        if not (amount.is_finite() and amount > 0):
            raise ValueError(f"amount to fill must be positive, got {amount}")
        filled = Decimal(0)
        cost = Decimal(0)
        used = 0
        for price, available in self.levels_for(side):
            if filled == amount:
                break
            take = min(available, EXACT.subtract(amount, filled))
            filled = EXACT.add(filled, take)
            cost = EXACT.add(cost, EXACT.multiply(price, take))
            used += 1
        return Fill(
            requested=amount, filled=filled, cost=cost, vwap=QUOTIENT.divide(cost, filled), levels_used=used
        )


# --- the paper exchange's catalog --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExchangeSpec:
    """How the paper exchange imitates one venue: its taker fee and the shape of its books."""

    name: str
    taker_fee: Decimal  # a fraction: 0.001 is 0.10 %
    half_spread_bps: Decimal  # typical distance from mid to best bid/ask, in basis points of mid
    level_spacing_bps: Decimal  # typical gap between two levels of one side


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """A market the paper exchange quotes: its grid and a typical size per level."""

    symbol: str
    reference_mid: Decimal  # where a price path starts when nothing else says
    price_tick: Decimal  # every price is a multiple of it
    amount_step: Decimal  # every amount is a multiple of it
    level_amount: Decimal  # typical base amount at the best level


# Paper defaults, not live fee schedules: the venues' published base-tier taker fees
# (binance spot 0.10 %, coinbase advanced 0.60 %, kraken pro 0.26 %) at the time of writing.
EXCHANGES: Final[Mapping[str, ExchangeSpec]] = MappingProxyType(
    {
        "binance": ExchangeSpec("binance", Decimal("0.0010"), Decimal("1.0"), Decimal("0.5")),
        "coinbase": ExchangeSpec("coinbase", Decimal("0.0060"), Decimal("2.0"), Decimal("1.0")),
        "kraken": ExchangeSpec("kraken", Decimal("0.0026"), Decimal("1.5"), Decimal("0.8")),
    }
)

# The seed's symbols; reference mids are round, plausible prices, not market data.
SYMBOLS: Final[Mapping[str, SymbolSpec]] = MappingProxyType(
    {
        "BTC/USD": SymbolSpec(
            "BTC/USD", Decimal("65000.00"), Decimal("0.01"), Decimal("0.0001"), Decimal("0.5")
        ),
        "ETH/USD": SymbolSpec("ETH/USD", Decimal("3500.00"), Decimal("0.01"), Decimal("0.001"), Decimal("5")),
    }
)


def exchange_spec(name: str) -> ExchangeSpec:
    """The catalog entry of `name`; ValueError naming the known exchanges otherwise."""
    try:
        return EXCHANGES[name]
    except KeyError:
        raise ValueError(f"unknown exchange {name!r}; known: {', '.join(sorted(EXCHANGES))}") from None


def symbol_spec(symbol: str) -> SymbolSpec:
    """The catalog entry of `symbol`; ValueError naming the known symbols otherwise."""
    try:
        return SYMBOLS[symbol]
    except KeyError:
        raise ValueError(f"unknown symbol {symbol!r}; known: {', '.join(sorted(SYMBOLS))}") from None


# --- deterministic randomness ------------------------------------------------------------------


def _canonical(value: Decimal) -> str:
    # 100, 100.0 and 100.00 are one price, so they must seed one book.
    return format(value.normalize(EXACT), "f")


def _uniform(key: str, *parts: object) -> Decimal:
    """A uniform draw in [0, 1) that depends only on the text of `key` and `parts`.

    Counter-based (each draw names its own position), so adding a draw in one place
    never shifts the draws of another.
    """
    text = "|".join([key, *(str(part) for part in parts)])
    word = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return QUOTIENT.divide(Decimal(word), _TWO_TO_64)


def _standard_normal(key: str, *parts: object) -> Decimal:
    """A N(0, 1) draw by Marsaglia's polar method, in decimal arithmetic only (ln, sqrt)."""
    attempt = 0
    while True:
        u = QUOTIENT.subtract(QUOTIENT.multiply(2, _uniform(key, *parts, attempt, "u")), 1)
        v = QUOTIENT.subtract(QUOTIENT.multiply(2, _uniform(key, *parts, attempt, "v")), 1)
        s = QUOTIENT.add(QUOTIENT.multiply(u, u), QUOTIENT.multiply(v, v))
        if 0 < s < 1:
            factor = QUOTIENT.sqrt(QUOTIENT.divide(QUOTIENT.multiply(-2, QUOTIENT.ln(s)), s))
            return QUOTIENT.multiply(u, factor)
        attempt += 1


def _to_grid(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    units = EXACT.divide(value, step).to_integral_value(rounding=rounding)
    # quantize: 65000 on a 0.01 grid reads 65000.00, as every other price of that grid
    return EXACT.multiply(units, step).quantize(step, context=EXACT)


# --- synthetic books ---------------------------------------------------------------------------

DEFAULT_DEPTH: Final = 10
DEFAULT_SKEW_BPS: Final = Decimal(25)


def synthetic_book(
    exchange: str,
    symbol: str,
    mid: Decimal,
    seed: str | int,
    tick_index: int,
    *,
    depth: int = DEFAULT_DEPTH,
    max_skew_bps: Decimal = DEFAULT_SKEW_BPS,
) -> OrderBook:
    """The paper exchange's book for `exchange`/`symbol` at `tick_index`, a pure function of its inputs.

    The book centres on `mid` moved by a venue-specific skew of at most `max_skew_bps`
    (so two venues quoting one reference price sometimes disagree by more than their
    fees, as real venues do, and arbitrage can be found; pass 0 for a book centred on
    `mid`). Its spread, level spacing and sizes are drawn around the catalog's
    `half_spread_bps`, `level_spacing_bps` and `level_amount`; prices sit on the
    symbol's tick, amounts on its step. `seed` 7 and "7" are the same seed.
    """
    venue = exchange_spec(exchange)
    market = symbol_spec(symbol)
    if not (mid.is_finite() and mid > 0):
        raise ValueError(f"mid must be positive, got {mid}")
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    if tick_index < 0:
        raise ValueError(f"tick_index must be >= 0, got {tick_index}")
    if not (max_skew_bps.is_finite() and max_skew_bps >= 0):
        raise ValueError(f"max_skew_bps must be >= 0, got {max_skew_bps}")
    key = f"book|{exchange}|{symbol}|{_canonical(mid)}|{seed}|{tick_index}"
    ctx = EXACT

    def bps_of(center: Decimal, bps: Decimal, draw: Decimal) -> Decimal:
        # bps * (0.5 + draw): between half and one and a half times the typical value.
        return ctx.divide(ctx.multiply(ctx.multiply(center, bps), ctx.add(Decimal("0.5"), draw)), _BPS)

    skew = ctx.multiply(max_skew_bps, ctx.subtract(ctx.multiply(2, _uniform(key, "skew")), 1))
    center = ctx.add(mid, ctx.divide(ctx.multiply(mid, skew), _BPS))
    half_spread = bps_of(center, venue.half_spread_bps, _uniform(key, "spread"))
    bid = _to_grid(ctx.subtract(center, half_spread), market.price_tick, ROUND_FLOOR)
    ask = _to_grid(ctx.add(center, half_spread), market.price_tick, ROUND_CEILING)
    if ask <= bid:  # only when half_spread is below a tick and center sits on the grid
        ask = ctx.add(bid, market.price_tick)

    def side(best: Decimal, name: str, direction: int) -> tuple[Level, ...]:
        levels = []
        price = best
        for level in range(depth):
            if level:
                gap = _to_grid(
                    bps_of(center, venue.level_spacing_bps, _uniform(key, name, level, "gap")),
                    market.price_tick,
                    ROUND_HALF_EVEN,
                )
                price = ctx.add(price, ctx.multiply(direction, max(gap, market.price_tick)))
            if price <= 0:
                raise ValueError(f"mid {mid} is too low for {depth} levels of {symbol} on {exchange}")
            # Sizes grow away from the touch, as on real books: 0.25x..1.75x, times 1..2 with depth.
            draw = _uniform(key, name, level, "amount")
            scale = ctx.multiply(
                ctx.add(Decimal("0.25"), ctx.multiply(Decimal("1.5"), draw)),
                ctx.add(1, ctx.divide(Decimal(level), Decimal(depth))),
            )
            amount = _to_grid(ctx.multiply(market.level_amount, scale), market.amount_step, ROUND_FLOOR)
            levels.append(Level(price, max(amount, market.amount_step)))
        return tuple(levels)

    return OrderBook(bids=side(bid, "bids", -1), asks=side(ask, "asks", 1))


# --- price paths -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candle:
    """One interval of a price path: open, high, low, close on the price grid (no volume:
    a paper market has no traded volume worth inventing)."""

    index: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


def price_path(
    start: Decimal,
    seed: str | int,
    candles: int,
    *,
    drift: Decimal = Decimal(0),
    volatility: Decimal = Decimal("0.01"),
    price_tick: Decimal = Decimal("0.01"),
    substeps: int = 4,
) -> tuple[Candle, ...]:
    """A geometric random walk from `start`, the same candles for the same seed on any machine.

    Per candle the log return is drawn from N(drift - volatility**2 / 2, volatility**2)
    (so E[close / open] = exp(drift), as in geometric Brownian motion), taken in `substeps` equal
    pieces whose extremes make the high and low. Each candle opens at the previous
    close; the walk keeps full precision and only the reported prices are rounded to
    `price_tick`. With `volatility` 0 the n-th close is start * exp(drift * n), rounded to the tick.
    """
    if not (start.is_finite() and start > 0):
        raise ValueError(f"start price must be positive, got {start}")
    if candles < 0:
        raise ValueError(f"candles must be >= 0, got {candles}")
    if not (volatility.is_finite() and volatility >= 0):
        raise ValueError(f"volatility must be >= 0, got {volatility}")
    if not drift.is_finite():
        raise ValueError(f"drift must be finite, got {drift}")
    if not (price_tick.is_finite() and price_tick > 0):
        raise ValueError(f"price_tick must be positive, got {price_tick}")
    if substeps < 1:
        raise ValueError(f"substeps must be at least 1, got {substeps}")
    ctx = QUOTIENT
    key = f"path|{seed}"
    pieces = Decimal(substeps)
    step_mean = ctx.divide(ctx.subtract(drift, ctx.divide(ctx.multiply(volatility, volatility), 2)), pieces)
    step_sigma = ctx.divide(volatility, ctx.sqrt(pieces))

    def on_grid(price: Decimal) -> Decimal:
        return _to_grid(price, price_tick, ROUND_HALF_EVEN)

    result = []
    price = start
    for index in range(candles):
        opened = price
        high = low = price
        for piece in range(substeps):
            shock = _standard_normal(key, index, piece) if step_sigma else Decimal(0)
            price = ctx.multiply(price, ctx.exp(ctx.add(step_mean, ctx.multiply(step_sigma, shock))))
            high, low = max(high, price), min(low, price)
        result.append(Candle(index, on_grid(opened), on_grid(high), on_grid(low), on_grid(price)))
    return tuple(result)
