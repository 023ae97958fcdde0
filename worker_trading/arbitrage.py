"""Cross-exchange arbitrage, computed the way Hummingbot's arbitrage strategy computes it.

Buy where the ask is low, sell where the bid is high, for as long as the books let
both legs trade at a gross profit. The method is that of Hummingbot's
`hummingbot/strategy/arbitrage/arbitrage.pyx` (`c_find_profitable_arbitrage_orders`,
then `c_find_best_profitable_amount`; last version at commit 8932130bdb, the strategy
was removed in e12dbfeb7b, Feb 2023):

1. Walk the buy venue's asks and the sell venue's bids together, best first. Each
   step trades min(what is left of the current ask, of the current bid); a level
   used up moves that side to its next level. The walk stops at the first pair
   where the bid is below the ask (a bid equal to the ask still trades, at zero
   gross margin, as in Hummingbot) or when either side runs out. `max_volume`
   caps the walk, possibly in the middle of a level.
2. After each step, price the volume so far net of the taker fee on both legs:
   cost = asks bought x (1 + buy fee), proceeds = bids sold x (1 - sell fee).
   The opportunity is the largest walked volume whose net profitability still
   meets the threshold; because each step's bid/ask ratio is no better than the
   one before, deeper volume can only dilute profitability.

Net profit percentage is Hummingbot's profitability, (proceeds / cost - 1) x 100,
that is net profit over the fee-inclusive buy cost. Every amount is a Decimal; sums
and products are exact, quotients keep 28 significant digits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import permutations
from typing import Final

from worker_trading.order_book import EXACT, QUOTIENT, Level, OrderBook

_HUNDRED: Final = Decimal(100)


@dataclass(frozen=True, slots=True)
class MatchedStep:
    """One step of the walk: `amount` bought at `ask_price` and sold at `bid_price`."""

    ask_price: Decimal
    bid_price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Opportunity:
    """A buy on `buy_exchange` and a sell on `sell_exchange` of `volume` base currency.

    `buy_cost` and `sell_proceeds` are gross (before fees), in quote currency;
    `buy_fee` and `sell_fee` are the fee amounts; `net_profit` =
    (sell_proceeds - sell_fee) - (buy_cost + buy_fee); `net_profit_percentage` =
    net_profit / (buy_cost + buy_fee) x 100. `steps` are the matched levels behind
    it, so each figure can be checked by hand.
    """

    buy_exchange: str
    sell_exchange: str
    volume: Decimal
    buy_vwap: Decimal
    sell_vwap: Decimal
    buy_cost: Decimal
    sell_proceeds: Decimal
    buy_fee: Decimal
    sell_fee: Decimal
    gross_profit: Decimal
    net_profit: Decimal
    net_profit_percentage: Decimal
    steps: tuple[MatchedStep, ...]

    @property
    def buy_limit_price(self) -> Decimal:
        """The worst ask the buy leg reaches: a limit order there fills the whole volume, as
        Hummingbot prices its buy order."""
        return self.steps[-1].ask_price

    @property
    def sell_limit_price(self) -> Decimal:
        """The worst bid the sell leg reaches."""
        return self.steps[-1].bid_price


def _check_fee(fee: Decimal, what: str) -> None:
    if not (fee.is_finite() and 0 <= fee < 1):
        raise ValueError(f"{what} must be a fraction in [0, 1), got {fee}")


def _check_max_volume(max_volume: Decimal | None) -> None:
    if max_volume is not None and not (max_volume.is_finite() and max_volume > 0):
        raise ValueError(f"max_volume must be positive (or None for no cap), got {max_volume}")


def match_books(
    buy_book: OrderBook, sell_book: OrderBook, max_volume: Decimal | None = None
) -> tuple[MatchedStep, ...]:
    """Step 1 of the method: the walk of `buy_book`'s asks against `sell_book`'s bids.

    Returns the steps in order (empty when the best bid is already below the best
    ask); their amounts add up to at most `max_volume` (None: no cap).
    """
    _check_max_volume(max_volume)
    asks: Iterator[Level] = iter(buy_book.asks)
    bids: Iterator[Level] = iter(sell_book.bids)
    ask_price, ask_left = next(asks)
    bid_price, bid_left = next(bids)
    volume = Decimal(0)
    steps: list[MatchedStep] = []
    while bid_price >= ask_price:
        amount = min(ask_left, bid_left)
        if max_volume is not None:
            amount = min(amount, EXACT.subtract(max_volume, volume))
        steps.append(MatchedStep(ask_price=ask_price, bid_price=bid_price, amount=amount))
        volume = EXACT.add(volume, amount)
        if max_volume is not None and volume >= max_volume:
            break
        ask_left = EXACT.subtract(ask_left, amount)
        bid_left = EXACT.subtract(bid_left, amount)
        try:
            if ask_left == 0:
                ask_price, ask_left = next(asks)
            if bid_left == 0:
                bid_price, bid_left = next(bids)
        except StopIteration:
            break
    return tuple(steps)


def price_steps(
    buy_exchange: str,
    sell_exchange: str,
    steps: tuple[MatchedStep, ...],
    *,
    buy_fee: Decimal,
    sell_fee: Decimal,
) -> Opportunity:
    """The figures of trading all of `steps`, net of the taker fee on each leg (fees as fractions)."""
    if not steps:
        raise ValueError("no matched steps to price")
    _check_fee(buy_fee, "buy_fee")
    _check_fee(sell_fee, "sell_fee")
    volume = buy_cost = sell_proceeds = Decimal(0)
    for step in steps:
        volume = EXACT.add(volume, step.amount)
        buy_cost = EXACT.add(buy_cost, EXACT.multiply(step.ask_price, step.amount))
        sell_proceeds = EXACT.add(sell_proceeds, EXACT.multiply(step.bid_price, step.amount))
    buy_fee_amount = EXACT.multiply(buy_cost, buy_fee)
    sell_fee_amount = EXACT.multiply(sell_proceeds, sell_fee)
    net_cost = EXACT.add(buy_cost, buy_fee_amount)
    net_profit = EXACT.subtract(EXACT.subtract(sell_proceeds, sell_fee_amount), net_cost)
    return Opportunity(
        buy_exchange=buy_exchange,
        sell_exchange=sell_exchange,
        volume=volume,
        buy_vwap=QUOTIENT.divide(buy_cost, volume),
        sell_vwap=QUOTIENT.divide(sell_proceeds, volume),
        buy_cost=buy_cost,
        sell_proceeds=sell_proceeds,
        buy_fee=buy_fee_amount,
        sell_fee=sell_fee_amount,
        gross_profit=EXACT.subtract(sell_proceeds, buy_cost),
        net_profit=net_profit,
        net_profit_percentage=QUOTIENT.multiply(QUOTIENT.divide(net_profit, net_cost), _HUNDRED),
        steps=steps,
    )


def evaluate_pair(
    buy_exchange: str,
    buy_book: OrderBook,
    sell_exchange: str,
    sell_book: OrderBook,
    *,
    buy_fee: Decimal,
    sell_fee: Decimal,
    max_volume: Decimal | None = None,
    min_profit_percentage: Decimal = Decimal(0),
) -> Opportunity | None:
    """Buying on one venue and selling on the other: the largest walked volume whose net profit
    percentage is at least `min_profit_percentage` (step 2 of the method), or None.

    Only whole steps are dropped (as in Hummingbot): the volume is where the walk
    stopped, or an earlier step boundary when the deeper steps dilute profitability
    below the threshold.
    """
    _check_fee(buy_fee, "buy_fee")
    _check_fee(sell_fee, "sell_fee")
    steps = match_books(buy_book, sell_book, max_volume)
    best: Opportunity | None = None
    for count in range(1, len(steps) + 1):
        candidate = price_steps(
            buy_exchange, sell_exchange, steps[:count], buy_fee=buy_fee, sell_fee=sell_fee
        )
        if candidate.net_profit_percentage >= min_profit_percentage:
            best = candidate
    return best


def find_opportunities(
    books: Mapping[str, OrderBook],
    taker_fees: Mapping[str, Decimal],
    *,
    max_volume: Decimal | None = None,
    min_profit_percentage: Decimal = Decimal(0),
) -> list[Opportunity]:
    """Every ordered pair of `books` (exchange -> its book for one symbol) that clears
    `min_profit_percentage` after fees, best first.

    Best means the highest net profit percentage, then the highest net profit, then
    the exchange names, so equal inputs always give the same order. `taker_fees` maps
    each exchange to its fee as a fraction (0.001 is 0.10 %).
    """
    if len(books) < 2:
        raise ValueError(f"arbitrage needs at least two exchanges, got {len(books)}")
    missing = sorted(set(books) - set(taker_fees))
    if missing:
        raise ValueError(f"no taker fee for {', '.join(missing)}")
    _check_max_volume(max_volume)
    found = []
    for buy_exchange, sell_exchange in permutations(sorted(books), 2):
        opportunity = evaluate_pair(
            buy_exchange,
            books[buy_exchange],
            sell_exchange,
            books[sell_exchange],
            buy_fee=taker_fees[buy_exchange],
            sell_fee=taker_fees[sell_exchange],
            max_volume=max_volume,
            min_profit_percentage=min_profit_percentage,
        )
        if opportunity is not None:
            found.append(opportunity)
    found.sort(key=lambda o: (-o.net_profit_percentage, -o.net_profit, o.buy_exchange, o.sell_exchange))
    return found
