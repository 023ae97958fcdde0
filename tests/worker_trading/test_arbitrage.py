"""Cross-exchange arbitrage (Hummingbot's method) against books worked through by hand.

Every expected figure below is computed in the comments, level by level, from the
books; fees are fractions (0.001 is 0.10 %).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from worker_trading.arbitrage import MatchedStep, evaluate_pair, find_opportunities, match_books, price_steps
from worker_trading.order_book import EXCHANGES, SYMBOLS, OrderBook, synthetic_book

D = Decimal

# Buy venue A (its asks matter) and sell venue B (its bids matter).
A = OrderBook.from_levels(
    bids=[("99", "1"), ("98", "2"), ("97", "3")],
    asks=[("100", "1"), ("101", "2"), ("103", "5")],
)
B = OrderBook.from_levels(
    bids=[("102", "1.5"), ("101.5", "1"), ("100", "4")],
    asks=[("102.5", "1"), ("103", "1"), ("104", "1")],
)


def test_the_walk_matches_both_books_and_stops_where_the_bid_falls_below_the_ask() -> None:
    # step 1: ask 100 (1 left) vs bid 102 (1.5 left): 102 >= 100, trade min(1, 1.5) = 1
    #         -> ask level used up (next: 101 x2), bid 102 has 0.5 left
    # step 2: ask 101 (2) vs bid 102 (0.5): trade 0.5 -> bid level used up (next: 101.5 x1), ask 101 has 1.5
    # step 3: ask 101 (1.5) vs bid 101.5 (1): trade 1 -> bid used up (next: 100 x4), ask 101 has 0.5
    # step 4: ask 101 vs bid 100: 100 < 101, stop. Volume 2.5; the buy leg stops inside the 101 level.
    assert match_books(A, B) == (
        MatchedStep(ask_price=D(100), bid_price=D(102), amount=D(1)),
        MatchedStep(ask_price=D(101), bid_price=D(102), amount=D("0.5")),
        MatchedStep(ask_price=D(101), bid_price=D("101.5"), amount=D(1)),
    )
    # the other way round the best bid (A: 99) is already below the best ask (B: 102.5)
    assert match_books(B, A) == ()


def test_net_profit_takes_the_fee_off_both_legs() -> None:
    # Steps as above. buy fee 0.1 %, sell fee 0.2 %.
    #   buy cost      = 100*1 + 101*0.5 + 101*1   = 100 + 50.5 + 101   = 251.5  -> VWAP 251.5 / 2.5 = 100.6
    #   sell proceeds = 102*1 + 102*0.5 + 101.5*1 = 102 + 51 + 101.5   = 254.5  -> VWAP 254.5 / 2.5 = 101.8
    #   gross profit  = 254.5 - 251.5 = 3
    #   buy fee  = 251.5 * 0.001 = 0.2515   -> cost with fee      = 251.7515
    #   sell fee = 254.5 * 0.002 = 0.509    -> proceeds after fee = 253.991
    #   net profit = 253.991 - 251.7515 = 2.2395
    #   net % = 2.2395 / 251.7515 * 100 = 0.889568 % (long division: 0.0088956769...)
    opportunity = evaluate_pair("A", A, "B", B, buy_fee=D("0.001"), sell_fee=D("0.002"))
    assert opportunity is not None
    assert (opportunity.buy_exchange, opportunity.sell_exchange) == ("A", "B")
    assert opportunity.volume == D("2.5")
    assert (opportunity.buy_cost, opportunity.buy_vwap) == (D("251.5"), D("100.6"))
    assert (opportunity.sell_proceeds, opportunity.sell_vwap) == (D("254.5"), D("101.8"))
    assert opportunity.gross_profit == D(3)
    assert (opportunity.buy_fee, opportunity.sell_fee) == (D("0.2515"), D("0.509"))
    assert opportunity.net_profit == D("2.2395")
    assert opportunity.net_profit_percentage.quantize(D("0.000001")) == D("0.889568")
    # limit prices that fill the whole volume: the worst ask bought, the worst bid sold
    assert (opportunity.buy_limit_price, opportunity.sell_limit_price) == (D(101), D("101.5"))
    assert evaluate_pair("B", B, "A", A, buy_fee=D("0.001"), sell_fee=D("0.002")) is None


def test_max_volume_caps_the_walk_in_the_middle_of_a_level() -> None:
    # max_volume 2: step 1 trades 1 (ask 100 vs bid 102), step 2 trades 0.5 (ask 101 vs bid 102),
    # step 3 would trade 1 (ask 101 vs bid 101.5) but only 2 - 1.5 = 0.5 is left: it trades 0.5.
    # Both legs stop inside a level: ask 101 has 1 of 2 used, bid 101.5 has 0.5 of 1 used.
    #   buy cost  = 100 + 101*0.5 + 101*0.5 = 100 + 50.5 + 50.5 = 201      -> VWAP 100.5
    #   proceeds  = 102 + 102*0.5 + 101.5*0.5 = 102 + 51 + 50.75 = 203.75  -> VWAP 101.875
    #   gross     = 2.75
    #   fees      = 201 * 0.001 = 0.201 ; 203.75 * 0.002 = 0.4075
    #   net       = (203.75 - 0.4075) - (201 + 0.201) = 203.3425 - 201.201 = 2.1415
    opportunity = evaluate_pair("A", A, "B", B, buy_fee=D("0.001"), sell_fee=D("0.002"), max_volume=D(2))
    assert opportunity is not None
    assert [step.amount for step in opportunity.steps] == [D(1), D("0.5"), D("0.5")]
    assert (opportunity.volume, opportunity.buy_vwap, opportunity.sell_vwap) == (
        D(2),
        D("100.5"),
        D("101.875"),
    )
    assert (opportunity.gross_profit, opportunity.buy_fee, opportunity.sell_fee) == (
        D("2.75"),
        D("0.201"),
        D("0.4075"),
    )
    assert opportunity.net_profit == D("2.1415")
    # a cap beyond the profitable depth changes nothing: the walk stops at 2.5 by itself
    uncapped = evaluate_pair("A", A, "B", B, buy_fee=D("0.001"), sell_fee=D("0.002"), max_volume=D(10))
    assert uncapped is not None and uncapped.volume == D("2.5")


# Thin gaps: A sells at 100 then 100.1; B buys at 100.3 then 100.2.
THIN_A = OrderBook.from_levels(bids=[("99.9", "1")], asks=[("100", "1"), ("100.1", "1"), ("100.5", "1")])
THIN_B = OrderBook.from_levels(bids=[("100.3", "1"), ("100.2", "1"), ("99", "1")], asks=[("100.4", "1")])


def test_fees_turn_a_gross_profit_into_a_loss_and_no_opportunity() -> None:
    # walk: (ask 100, bid 100.3, 1), (ask 100.1, bid 100.2, 1), then bid 99 < ask 100.5: stop.
    # gross = 0.3 + 0.1 = 0.4 > 0. Fees binance 0.1 % (buy) and coinbase 0.6 % (sell):
    #   first step alone: cost 100 * 1.001 = 100.1;   proceeds 100.3 * 0.994 = 99.6982;  net -0.4018
    #   both steps:       cost 200.1 * 1.001 = 200.3001; proceeds 200.5 * 0.994 = 199.297; net -1.0031
    steps = match_books(THIN_A, THIN_B)
    assert [(s.ask_price, s.bid_price, s.amount) for s in steps] == [
        (D(100), D("100.3"), D(1)),
        (D("100.1"), D("100.2"), D(1)),
    ]
    priced = price_steps("binance", "coinbase", steps, buy_fee=D("0.001"), sell_fee=D("0.006"))
    assert priced.gross_profit == D("0.4")
    assert priced.net_profit == D("-1.0031")
    first = price_steps("binance", "coinbase", steps[:1], buy_fee=D("0.001"), sell_fee=D("0.006"))
    assert first.net_profit == D("-0.4018")
    assert (
        evaluate_pair("binance", THIN_A, "coinbase", THIN_B, buy_fee=D("0.001"), sell_fee=D("0.006")) is None
    )
    # without fees the same books are an opportunity of 0.4 on 2: net % = 0.4 / 200.1 * 100 = 0.1999 %
    free = evaluate_pair("binance", THIN_A, "coinbase", THIN_B, buy_fee=D(0), sell_fee=D(0))
    assert free is not None
    assert (free.volume, free.net_profit) == (D(2), D("0.4"))
    assert free.net_profit_percentage.quantize(D("0.0001")) == D("0.1999")


# Rich first level, thin second: A asks 100, 100.5, 101; B bids 101, 100.6, 100.5.
RICH_A = OrderBook.from_levels(bids=[("99", "1")], asks=[("100", "1"), ("100.5", "1"), ("101", "1")])
RICH_B = OrderBook.from_levels(bids=[("101", "1"), ("100.6", "1"), ("100.5", "1")], asks=[("101.5", "1")])


@pytest.mark.parametrize(
    ("min_percentage", "volume", "net_profit"),
    [
        # walk: (100, 101, 1), (100.5, 100.6, 1), then bid 100.5 < ask 101: stop. Fees 0.1 % each way.
        #   1 step : cost 100 * 1.001 = 100.1;       proceeds 101 * 0.999 = 100.899;     net 0.799
        #            net % = 0.799 / 100.1 * 100 = 0.7982 %
        #   2 steps: cost 200.5 * 1.001 = 200.7005;  proceeds 201.6 * 0.999 = 201.3984;  net 0.6979
        #            net % = 0.6979 / 200.7005 * 100 = 0.3477 %
        (D("0.3"), D(2), D("0.6979")),  # both clear 0.3 %: the whole walk
        (D("0.5"), D(1), D("0.799")),  # the second step dilutes below 0.5 %: Hummingbot keeps the first
    ],
)
def test_the_volume_is_the_deepest_step_that_still_clears_the_threshold(
    min_percentage: Decimal, volume: Decimal, net_profit: Decimal
) -> None:
    fee = D("0.001")
    found = evaluate_pair(
        "A", RICH_A, "B", RICH_B, buy_fee=fee, sell_fee=fee, min_profit_percentage=min_percentage
    )
    assert found is not None
    assert (found.volume, found.net_profit) == (volume, net_profit)
    assert found.net_profit_percentage >= min_percentage


def test_nothing_clears_a_threshold_above_the_best_step() -> None:
    fee = D("0.001")  # best is 0.7982 % (above)
    assert (
        evaluate_pair("A", RICH_A, "B", RICH_B, buy_fee=fee, sell_fee=fee, min_profit_percentage=D("0.8"))
        is None
    )


def test_a_bid_equal_to_the_ask_still_trades_as_in_hummingbot() -> None:
    # bid 100 vs ask 100: not below, so step (100, 100, 1); then ask 101 > bid 100 (1 left): stop.
    buy = OrderBook.from_levels(bids=[("99", "1")], asks=[("100", "1"), ("101", "1")])
    sell = OrderBook.from_levels(bids=[("100", "2")], asks=[("100.5", "1")])
    assert match_books(buy, sell) == (MatchedStep(D(100), D(100), D(1)),)
    # at zero margin any fee is a loss: 100 * 0.999 - 100 * 1.001 = -0.2
    priced = price_steps("x", "y", match_books(buy, sell), buy_fee=D("0.001"), sell_fee=D("0.001"))
    assert priced.net_profit == D("-0.2")
    assert evaluate_pair("x", buy, "y", sell, buy_fee=D("0.001"), sell_fee=D("0.001")) is None


def test_the_walk_ends_when_a_book_runs_out() -> None:
    # one ask of 1 at 100 against 3 bid at 105: step (100, 105, 1), then no asks left.
    buy = OrderBook.from_levels(bids=[("99", "1")], asks=[("100", "1")])
    sell = OrderBook.from_levels(bids=[("105", "3")], asks=[("106", "1")])
    assert match_books(buy, sell) == (MatchedStep(D(100), D(105), D(1)),)


# Three venues, catalog fees: binance 0.1 %, coinbase 0.6 %, kraken 0.26 %.
THREE = {
    "binance": OrderBook.from_levels(bids=[("99.9", "2")], asks=[("100", "2")]),
    "kraken": OrderBook.from_levels(bids=[("100.6", "1"), ("100.4", "1")], asks=[("100.8", "1")]),
    "coinbase": OrderBook.from_levels(bids=[("101.5", "1")], asks=[("101.6", "1")]),
}
FEES = {name: spec.taker_fee for name, spec in EXCHANGES.items()}

# Ordered pairs with any step (bid >= ask):
#   binance -> coinbase: (100, 101.5, 1); coinbase's only bid is used up.
#       cost 100 * 1.001 = 100.1; proceeds 101.5 * 0.994 = 100.891; net 0.791; net % 0.791 / 100.1 = 0.7902 %
#   binance -> kraken:   (100, 100.6, 1), (100, 100.4, 1); binance's 2 asks used up.
#       1 step : cost 100.1;             proceeds 100.6 * 0.9974 = 100.33844; net 0.23844; 0.2382 %
#       2 steps: cost 200 * 1.001 = 200.2; proceeds 201 * 0.9974 = 200.4774;  net 0.2774;  0.1386 %
#   kraken -> coinbase:  (100.8, 101.5, 1): cost 100.8 * 1.0026 = 101.06208; proceeds 100.891; net -0.17108
#   every other order: the best bid is below the best ask (e.g. coinbase's ask 101.6 > any bid).


def test_every_ordered_pair_is_evaluated_and_the_best_comes_first() -> None:
    found = find_opportunities(THREE, FEES)
    assert [(o.buy_exchange, o.sell_exchange, o.volume, o.net_profit) for o in found] == [
        ("binance", "coinbase", D(1), D("0.791")),
        ("binance", "kraken", D(2), D("0.2774")),
    ]
    assert found[0].net_profit_percentage.quantize(D("0.0001")) == D("0.7902")
    assert found[1].net_profit_percentage.quantize(D("0.0001")) == D("0.1386")


def test_the_threshold_filters_and_trims_opportunities() -> None:
    # at 0.2 %: binance -> kraken keeps only its first step (0.2382 %); at 0.5 % only coinbase remains
    at_02 = find_opportunities(THREE, FEES, min_profit_percentage=D("0.2"))
    assert [(o.buy_exchange, o.sell_exchange, o.volume, o.net_profit) for o in at_02] == [
        ("binance", "coinbase", D(1), D("0.791")),
        ("binance", "kraken", D(1), D("0.23844")),
    ]
    at_05 = find_opportunities(THREE, FEES, min_profit_percentage=D("0.5"))
    assert [(o.buy_exchange, o.sell_exchange) for o in at_05] == [("binance", "coinbase")]
    assert find_opportunities(THREE, FEES, min_profit_percentage=D(1)) == []


def test_max_volume_applies_to_every_pair() -> None:
    # cap 0.5:
    #   binance -> coinbase, 0.5 at (100, 101.5): cost 50 * 1.001 = 50.05; proceeds 50.75 * 0.994 = 50.4455;
    #       net 0.3955
    #   binance -> kraken, 0.5 at (100, 100.6): cost 50.05; proceeds 50.3 * 0.9974 = 50.16922; net 0.11922
    found = find_opportunities(THREE, FEES, max_volume=D("0.5"))
    assert [(o.buy_exchange, o.sell_exchange, o.volume, o.net_profit) for o in found] == [
        ("binance", "coinbase", D("0.5"), D("0.3955")),
        ("binance", "kraken", D("0.5"), D("0.11922")),
    ]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="at least two exchanges"):
        find_opportunities({"binance": THREE["binance"]}, FEES)
    with pytest.raises(ValueError, match="no taker fee for kraken"):
        find_opportunities(THREE, {"binance": D("0.001"), "coinbase": D("0.006")})
    with pytest.raises(ValueError, match="max_volume must be positive"):
        find_opportunities(THREE, FEES, max_volume=D(0))
    with pytest.raises(ValueError, match="buy_fee must be a fraction"):
        evaluate_pair("A", A, "B", B, buy_fee=D(1), sell_fee=D(0))
    with pytest.raises(ValueError, match="no matched steps"):
        price_steps("A", "B", (), buy_fee=D(0), sell_fee=D(0))


def test_the_paper_market_offers_arbitrage_now_and_then_never_always() -> None:
    """Venue skews of up to 25 bps each sometimes beat binance + kraken's 0.36 % in fees."""
    mid = SYMBOLS["BTC/USD"].reference_mid
    hits = 0
    for tick in range(200):
        books = {
            venue: synthetic_book(venue, "BTC/USD", mid, "paper", tick) for venue in ("binance", "kraken")
        }
        found = find_opportunities(books, FEES)
        hits += bool(found)
        for opportunity in found:
            assert opportunity.net_profit >= 0
            assert opportunity.sell_vwap > opportunity.buy_vwap
    assert 0 < hits < 200
