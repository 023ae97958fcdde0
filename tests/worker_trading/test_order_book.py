"""Order books, fills and the paper market, checked against answers worked out by hand."""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from worker_trading.order_book import (
    EXCHANGES,
    SYMBOLS,
    Level,
    OrderBook,
    Side,
    exchange_spec,
    price_path,
    symbol_spec,
    synthetic_book,
)

D = Decimal
REPO = Path(__file__).resolve().parents[2]

# bids 99 x1, 98 x3, 97.5 x2 | asks 100 x1, 101 x2, 103 x5
BOOK = OrderBook.from_levels(
    bids=[("99", "1"), ("98", "3"), ("97.5", "2")],
    asks=[("100", "1"), ("101", "2"), ("103", "5")],
)


def test_top_of_book_mid_and_spread() -> None:
    assert BOOK.best_bid == Level(D(99), D(1))
    assert BOOK.best_ask == Level(D(100), D(1))
    assert BOOK.mid == D("99.5")  # (99 + 100) / 2
    assert BOOK.spread == D(1)  # 100 - 99


def test_a_buy_walks_the_asks_and_stops_mid_level() -> None:
    # 2.5 to buy: all of 100 x1, then 1.5 of the 2 at 101.
    # cost = 100*1 + 101*1.5 = 100 + 151.5 = 251.5; VWAP = 251.5 / 2.5 = 100.6
    fill = BOOK.vwap_to_fill(Side.BUY, D("2.5"))
    assert (fill.filled, fill.cost, fill.vwap, fill.levels_used) == (D("2.5"), D("251.5"), D("100.6"), 2)
    assert fill.complete and fill.remaining == 0


def test_a_sell_walks_the_bids_and_a_level_boundary_touches_no_further_level() -> None:
    # 2 to sell: 99 x1 + 98 x1 = 197; VWAP 98.5
    two = BOOK.vwap_to_fill(Side.SELL, D(2))
    assert (two.cost, two.vwap, two.levels_used) == (D(197), D("98.5"), 2)
    # 4 to sell: 99 x1 + 98 x3 = 99 + 294 = 393; VWAP 98.25; the 97.5 level is never reached
    four = BOOK.vwap_to_fill(Side.SELL, D(4))
    assert (four.cost, four.vwap, four.levels_used) == (D(393), D("98.25"), 2)


def test_a_book_shallower_than_the_order_fills_in_part() -> None:
    # 10 to buy, 1 + 2 + 5 = 8 on offer: cost = 100 + 202 + 515 = 817; VWAP = 817 / 8 = 102.125
    fill = BOOK.vwap_to_fill(Side.BUY, D(10))
    assert (fill.filled, fill.remaining, fill.cost, fill.vwap, fill.levels_used) == (
        D(8),
        D(2),
        D(817),
        D("102.125"),
        3,
    )
    assert not fill.complete
    assert fill.filled + fill.remaining == fill.requested  # ccxt: amount = filled + remaining


@pytest.mark.parametrize("amount", [D(0), D(-1), D("NaN")])
def test_a_fill_of_nothing_is_refused(amount: Decimal) -> None:
    with pytest.raises(ValueError, match="positive"):
        BOOK.vwap_to_fill(Side.BUY, amount)


@pytest.mark.parametrize(
    ("bids", "asks", "problem"),
    [
        ([("101", "1")], [("100", "1")], "crossed: best bid 101 >= best ask 100"),
        ([("100", "1")], [("100", "1")], "locked: best bid 100 >= best ask 100"),
        (
            [("98", "1"), ("99", "1")],
            [("100", "1")],
            r"bids must be strictly descending.*bids\[1\] is 99 after 98",
        ),
        (
            [("99", "1")],
            [("100", "1"), ("100", "2")],
            r"asks must be strictly ascending.*asks\[1\] is 100 after 100",
        ),
        ([("99", "1")], [("101", "1"), ("100.5", "1")], "asks must be strictly ascending"),
        ([("99", "0")], [("100", "1")], r"bids\[0\] amount must be a positive"),
        ([("99", "1")], [("-100", "1")], r"asks\[0\] price must be a positive"),
        ([], [("100", "1")], "order book has no bids"),
        ([("99", "1")], [], "order book has no asks"),
        ([("99", "1")], [("Infinity", "1")], "must be finite"),
        ([("99", "1")], [("abc", "1")], "not a number"),
    ],
)
def test_a_malformed_book_is_refused_with_its_problem_named(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        OrderBook.from_levels(bids=bids, asks=asks)


def test_floats_and_bare_tuples_are_refused_so_no_binary_rounding_gets_in() -> None:
    with pytest.raises(TypeError, match="float"):
        OrderBook.from_levels(bids=[(99.1, "1")], asks=[("100", "1")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="must be a Level"):
        OrderBook(bids=((D(99), D(1)),), asks=(Level(D(100), D(1)),))  # type: ignore[arg-type]


def test_a_book_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        BOOK.bids = ()  # type: ignore[misc]


# --- catalog -----------------------------------------------------------------------------------


def test_the_catalog_knows_the_seeds_exchanges_and_symbols() -> None:
    assert sorted(EXCHANGES) == ["binance", "coinbase", "kraken"]
    assert {name: spec.taker_fee for name, spec in EXCHANGES.items()} == {
        "binance": D("0.001"),
        "coinbase": D("0.006"),
        "kraken": D("0.0026"),
    }
    assert sorted(SYMBOLS) == ["BTC/USD", "ETH/USD"]
    assert all(spec.reference_mid > 0 for spec in SYMBOLS.values())
    assert symbol_spec("ETH/USD").symbol == "ETH/USD"
    assert exchange_spec("kraken").name == "kraken"
    with pytest.raises(ValueError, match="unknown exchange 'ftx'; known: binance, coinbase, kraken"):
        exchange_spec("ftx")
    with pytest.raises(ValueError, match="unknown symbol 'DOGE/USD'; known: BTC/USD, ETH/USD"):
        symbol_spec("DOGE/USD")


# --- synthetic books ---------------------------------------------------------------------------

BTC_MID = D("65000.00")


def test_the_same_inputs_give_the_same_book() -> None:
    one = synthetic_book("binance", "BTC/USD", BTC_MID, 42, 7)
    assert one == synthetic_book("binance", "BTC/USD", BTC_MID, 42, 7)
    assert one == synthetic_book("binance", "BTC/USD", D("65000"), "42", 7)  # 65000 == 65000.00, 42 == "42"


def test_each_input_changes_the_book() -> None:
    base = synthetic_book("binance", "BTC/USD", BTC_MID, 42, 7)
    assert base != synthetic_book("binance", "BTC/USD", BTC_MID, 43, 7)
    assert base != synthetic_book("binance", "BTC/USD", BTC_MID, 42, 8)
    assert base != synthetic_book("kraken", "BTC/USD", BTC_MID, 42, 7)
    assert base != synthetic_book("binance", "BTC/USD", D("65000.01"), 42, 7)


def test_a_book_is_the_same_in_another_process_with_another_hash_seed() -> None:
    """Python's str hash is salted per process; the book must not depend on it."""
    code = (
        "from decimal import Decimal; from worker_trading.order_book import synthetic_book, price_path;"
        "print(synthetic_book('kraken', 'ETH/USD', Decimal('3500'), 'seed-1', 3));"
        "print(price_path(Decimal('3500'), 'seed-1', 3))"
    )
    book, path = synthetic_book("kraken", "ETH/USD", D(3500), "seed-1", 3), price_path(D(3500), "seed-1", 3)
    here = f"{book}\n{path}\n"
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'gen'}"}
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout == here


@pytest.mark.parametrize("exchange", sorted(EXCHANGES))
@pytest.mark.parametrize("symbol", sorted(SYMBOLS))
def test_synthetic_books_are_valid_on_the_grid_and_within_their_spec(exchange: str, symbol: str) -> None:
    venue, market = EXCHANGES[exchange], SYMBOLS[symbol]
    mid = market.reference_mid
    for seed in range(25):
        for tick_index in range(4):
            book = synthetic_book(exchange, symbol, mid, seed, tick_index, depth=6, max_skew_bps=D(0))
            assert len(book.bids) == len(book.asks) == 6
            assert book.best_bid.price < mid < book.best_ask.price  # never crossed; unskewed: brackets mid
            # half spread is half_spread_bps x (0.5 .. 1.5) of mid, then widened to the tick grid
            assert 2 * mid * venue.half_spread_bps * D("0.5") / 10_000 <= book.spread
            assert book.spread <= 2 * mid * venue.half_spread_bps * D("1.5") / 10_000 + 2 * market.price_tick
            for level in (*book.bids, *book.asks):
                assert level.price % market.price_tick == 0
                assert level.amount % market.amount_step == 0
                assert market.amount_step <= level.amount <= market.level_amount * D("1.75") * 2
            for side in (book.bids, book.asks):
                for near, far in itertools.pairwise(side):
                    gap = abs(near.price - far.price)
                    assert gap <= mid * venue.level_spacing_bps * D("1.5") / 10_000 + market.price_tick


def test_the_skew_moves_a_book_at_most_max_skew_bps_from_mid() -> None:
    limit = BTC_MID * 25 / 10_000  # 162.5 with the default 25 bps
    mids = [synthetic_book("coinbase", "BTC/USD", BTC_MID, 9, tick).mid for tick in range(200)]
    assert all(abs(mid - BTC_MID) <= limit + D("0.01") for mid in mids)
    assert max(mids) - min(mids) > limit  # it does move: the venues disagree now and then


def test_a_synthetic_book_refuses_what_it_cannot_build() -> None:
    with pytest.raises(ValueError, match="unknown exchange"):
        synthetic_book("mtgox", "BTC/USD", BTC_MID, 1, 0)
    with pytest.raises(ValueError, match="depth must be at least 1"):
        synthetic_book("binance", "BTC/USD", BTC_MID, 1, 0, depth=0)
    with pytest.raises(ValueError, match="mid must be positive"):
        synthetic_book("binance", "BTC/USD", D(0), 1, 0)
    with pytest.raises(ValueError, match="tick_index"):
        synthetic_book("binance", "BTC/USD", BTC_MID, 1, -1)
    with pytest.raises(ValueError, match="too low"):
        synthetic_book("binance", "ETH/USD", D("0.05"), 1, 0, depth=10, max_skew_bps=D(0))


# --- price paths -------------------------------------------------------------------------------


def test_without_volatility_the_path_is_the_drift_compounded() -> None:
    # volatility 0, drift 1 % per candle: close_n = 100 * e^(0.01 n)
    #   e^0.01 = 1.0100502 -> 101.005 -> 101.01; e^0.02 = 1.0202013 -> 102.020 -> 102.02;
    #   e^0.03 = 1.0304545 -> 103.045 -> 103.05. Each candle opens at the previous close.
    path = price_path(D(100), "any", 3, drift=D("0.01"), volatility=D(0))
    assert [(c.index, c.open, c.high, c.low, c.close) for c in path] == [
        (0, D(100), D("101.01"), D(100), D("101.01")),
        (1, D("101.01"), D("102.02"), D("101.01"), D("102.02")),
        (2, D("102.02"), D("103.05"), D("102.02"), D("103.05")),
    ]
    flat = price_path(D(100), "any", 2, volatility=D(0))
    assert {price for c in flat for price in (c.open, c.high, c.low, c.close)} == {D(100)}


def test_the_same_seed_gives_the_same_candles_and_another_seed_others() -> None:
    path = price_path(D(65000), "strategy_1", 50, volatility=D("0.02"))
    assert path == price_path(D(65000), "strategy_1", 50, volatility=D("0.02"))
    assert path != price_path(D(65000), "strategy_2", 50, volatility=D("0.02"))
    assert (
        price_path(D(65000), "strategy_1", 20, volatility=D("0.02")) == path[:20]
    )  # a longer path extends it


def test_candles_are_well_formed() -> None:
    path = price_path(D(3500), 5, 200, drift=D("0.001"), volatility=D("0.03"))
    assert [c.index for c in path] == list(range(200))
    for previous, candle in itertools.pairwise(path):
        # each open is the previous close (both the same unrounded price, rounded the same way)
        assert candle.open == previous.close
    for candle in path:
        assert candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close) <= candle.high
        assert candle.low > 0


def test_log_returns_have_the_requested_drift_and_volatility() -> None:
    # log(close/open) ~ N(drift - vol^2/2, vol^2): with drift 0.002 and vol 0.02 the mean is
    # 0.002 - 0.0002 = 0.0018 (standard error 0.02 / sqrt(1000) = 0.00063) and the spread 0.02.
    path = price_path(D(100), "stats", 1000, drift=D("0.002"), volatility=D("0.02"), price_tick=D("1e-12"))
    returns = [math.log(c.close / c.open) for c in path]
    mean = sum(returns) / len(returns)
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
    assert abs(mean - 0.0018) < 0.002
    assert abs(std - 0.02) < 0.002


def test_a_price_path_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="start price"):
        price_path(D(0), 1, 3)
    with pytest.raises(ValueError, match="volatility"):
        price_path(D(1), 1, 3, volatility=D(-1))
    with pytest.raises(ValueError, match="candles"):
        price_path(D(1), 1, -1)
    assert price_path(D(1), 1, 0) == ()
