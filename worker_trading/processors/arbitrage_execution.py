"""strategy-execution's `arbitrage`: the best opportunity across `parameters.exchanges`, traded as two legs.

Finding it. For each ordered pair of the venues (buy on one, sell on the other) the
volume is capped first, then the pair is evaluated by Hummingbot's method
(arbitrage.py: the asks walked against the bids, net of both taker fees) at or
above `parameters.minProfit` percent (0.1 when unset). The best is the highest net
profit percentage, as arbitrage-detection ranks them. The caps, each in base units
rounded down to the symbol's amount step:

- quote: the buy leg's cost stays within the smallest of maxPositionSize x
  maxLeverage; the buy venue's free quote over (1 + its fee); and maxLoss's room
  (limits.py) for the worst case of an arbitrage, its second leg failing: the
  first then is an exposure E = N like any position, worst case N x (s + 2f). The
  volume is the most the buy venue's asks give for that quote;
- inventory: the sell venue's free base currency (paper accounts start with some
  on every venue, as a desk funds each venue it trades on).

Trading it. The buy leg is a limit order at the worst ask the walk reached, the
sell leg a limit order of what the buy filled at the worst bid (Hummingbot prices
its legs the same way): a book that moved since cannot fill them at a loss beyond
the opportunity. Their client order ids are `{job_id}-buy` and `{job_id}-sell`,
placed with the attempt's fence. A job delivered again finds the legs already
placed (on whichever venue) and goes on from there: a buy placed and no sell yet
sells what it bought on the venue with the best bids now (and the inventory).

What it reports. `profit` is the realized change of quote currency, net of both
fees, on the volume both legs traded: (sell cost - sell fee) - (buy cost + buy
fee) x sold / bought. A leg left open (the sell refused, or filled in part) is
never silent: `refused` says why and what is open, and the position fields name
it (venue, amount, average price) so it can be monitored or exited. The account
is the strategy's (`strategy_id`, else the job's id).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import permutations
from typing import Any, Final

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from queue_system.context import JobContext
from worker_trading.arbitrage import Opportunity, evaluate_pair
from worker_trading.exchange import Exchange, Fence, Order, OrderRefusedError
from worker_trading.order_book import EXACT, QUOTIENT, Level, OrderBook, Side, exchange_spec, symbol_spec
from worker_trading.processors.arbitrage_detection import opportunity
from worker_trading.processors.inputs import decimal, figures, params
from worker_trading.processors.inputs import shown as plain
from worker_trading.processors.limits import Limits, floor_to, limits_of
from worker_trading.processors.orders import order_message

DEFAULT_MIN_PROFIT: Final = "0.1"  # percent, as trading-svc's arbitrage-detection job defaults it


@dataclass(frozen=True, slots=True)
class _Venue:
    book: OrderBook
    fee: Decimal
    quote_free: Decimal
    base_free: Decimal


@dataclass(frozen=True, slots=True)
class _Pair:
    """The legs as they stand: the buy placed, and where its sell goes (or went)."""

    bought_on: str
    buy: Order
    sell_on: str  # '' when no venue can take the sell
    sell_at: Decimal  # the sell leg's limit price
    sold: Order | None = None  # the sell leg an earlier delivery placed


@dataclass(frozen=True, slots=True)
class _Plan:
    best: Opportunity
    caps: dict[str, Decimal]
    worst_case_loss: Decimal


def _exchanges(p: dict[str, Any]) -> list[str]:
    venues = p.get("exchanges")
    if not isinstance(venues, list) or not all(isinstance(v, str) for v in venues):
        raise ValueError("parameters.exchanges must be a list of exchange names")
    distinct = list(dict.fromkeys(venues))
    if len(distinct) < 2:
        raise ValueError(f"arbitrage needs at least two distinct exchanges, got {venues}")
    return distinct


def volume_for_quote(asks: tuple[Level, ...], quote: Decimal) -> Decimal:
    """The most base currency `quote` buys walking `asks` best first (the last level in part)."""
    volume, left = Decimal(0), quote
    for price, amount in asks:
        if left <= 0:
            break
        cost = EXACT.multiply(price, amount)
        if cost <= left:
            volume, left = EXACT.add(volume, amount), EXACT.subtract(left, cost)
        else:
            return EXACT.add(volume, QUOTIENT.divide(left, price))
    return volume


def _caps(limits: Limits, buy: _Venue, sell: _Venue, step: Decimal) -> dict[str, Decimal]:
    by_balance = QUOTIENT.divide(buy.quote_free, EXACT.add(1, buy.fee))
    _, by_loss = limits.room(Decimal(0), buy.fee)
    quote = min(limits.position_limit, by_balance, by_loss)
    by_quote = floor_to(volume_for_quote(buy.book.asks, quote), step)
    inventory = floor_to(sell.base_free, step)
    return {
        "positionLimit": limits.position_limit,
        "balanceQuote": by_balance,
        "lossQuote": by_loss,
        "quote": quote,
        "volumeForQuote": by_quote,
        "inventory": inventory,
        "volume": min(by_quote, inventory),
    }


def _plan(
    venues: dict[str, _Venue], limits: Limits, step: Decimal, min_profit: Decimal
) -> tuple[_Plan | None, list[dict[str, object]]]:
    """The best capped opportunity (None when none clears `min_profit`) and every pair's figures."""
    plans, pairs = [], []
    for a, b in permutations(sorted(venues), 2):
        caps = _caps(limits, venues[a], venues[b], step)
        found = None
        if caps["volume"] > 0:
            found = evaluate_pair(
                a,
                venues[a].book,
                b,
                venues[b].book,
                buy_fee=venues[a].fee,
                sell_fee=venues[b].fee,
                max_volume=caps["volume"],
                min_profit_percentage=min_profit,
            )
        pairs.append(
            {
                "buy": a,
                "sell": b,
                "volumeCap": caps["volume"],
                "netProfitPercentage": found.net_profit_percentage if found else None,
            }
        )
        if found is not None:
            loss = limits.worst_case_loss(found.buy_cost, found.buy_cost, venues[a].fee)
            plans.append(_Plan(found, caps, loss))
    plans.sort(key=lambda x: (-x.best.net_profit_percentage, -x.best.net_profit, x.best.buy_exchange))
    return (plans[0] if plans else None), pairs


@dataclass(frozen=True, slots=True)
class _Run:
    """One arbitrage job's run: where it trades, as whom, with which fence and order ids."""

    exchange: Exchange
    names: list[str]
    symbol: str
    account: str
    fence: Fence
    buy_id: str
    sell_id: str

    @property
    def base(self) -> str:
        return self.symbol.split("/", maxsplit=1)[0]

    async def venues(self) -> dict[str, _Venue]:
        quote = self.symbol.split("/")[1]
        out = {}
        for name in self.names:
            wallet = await self.exchange.balance(name, self.account)
            out[name] = _Venue(
                await self.exchange.order_book(name, self.symbol),
                exchange_spec(name).taker_fee,
                wallet[quote].free if quote in wallet else Decimal(0),
                wallet[self.base].free if self.base in wallet else Decimal(0),
            )
        return out

    async def placed(self, client_order_id: str) -> tuple[str, Order] | None:
        """The venue and order `client_order_id` was placed with by an earlier delivery, if any."""
        for name in self.names:
            order = await self.exchange.fetch_order(name, client_order_id, account=self.account)
            if order is not None:
                return name, order
        return None

    async def exit_venue(self, bought_on: str, amount: Decimal) -> tuple[str, Decimal] | None:
        """Where to sell `amount` now (a resumed job's second leg): the venue whose bids, net of
        its fee, pay the most for all of it among those holding it, and the worst bid reached."""
        best: tuple[Decimal, str, Decimal] | None = None
        for name in (n for n in self.names if n != bought_on):
            wallet = await self.exchange.balance(name, self.account)
            if self.base not in wallet or wallet[self.base].free < amount:
                continue
            book = await self.exchange.order_book(name, self.symbol)
            fill = book.vwap_to_fill(Side.SELL, amount)
            net = EXACT.multiply(fill.cost, EXACT.subtract(1, exchange_spec(name).taker_fee))
            if fill.complete and (best is None or net > best[0]):
                best = (net, name, book.bids[fill.levels_used - 1].price)
        return (best[1], best[2]) if best else None

    async def resumed(self, bought_on: str, buy: Order) -> _Pair:
        """The pair an earlier delivery began: its sell leg if placed, else where to sell now."""
        sold = await self.placed(self.sell_id)
        if sold is not None:
            return _Pair(bought_on, buy, sold[0], sold[1].price or Decimal(0), sold[1])
        where = await self.exit_venue(bought_on, buy.filled) if buy.filled > 0 else None
        if where is None:
            return _Pair(bought_on, buy, "", Decimal(0))
        return _Pair(bought_on, buy, where[0], where[1])

    async def order(self, venue: str, side: Side, amount: Decimal, price: Decimal) -> Order:
        return await self.exchange.create_order(
            venue,
            self.symbol,
            side,
            amount,
            account=self.account,
            client_order_id=self.buy_id if side is Side.BUY else self.sell_id,
            fence=self.fence,
            price=price,
        )


async def arbitrage(
    job: tj.StrategyExecutionJob, ctx: JobContext, exchange: Exchange, result: tr.StrategyExecutionResult
) -> None:
    p = params(job.parameters)
    run = _Run(
        exchange,
        _exchanges(p),
        job.symbol,
        job.strategy_id or ctx.job_id,
        Fence(ctx.job_id, ctx.fencing_token),
        f"{ctx.job_id}-buy",
        f"{ctx.job_id}-sell",
    )
    min_profit = decimal(p.get("minProfit", DEFAULT_MIN_PROFIT), "minProfit")
    limits = limits_of(job, p)
    shown: dict[str, object] = {
        "exchanges": run.names,
        "minProfit": min_profit,
        "stoploss": limits.stoploss,
        "stopRule": limits.stop_rule,
    }
    placed = await run.placed(run.buy_id)
    if placed is not None:
        shown["resumed"] = f"the buy leg {run.buy_id} on {placed[0]} was placed by an earlier delivery"
        pair = await run.resumed(*placed)
    else:
        plan, shown["pairs"] = _plan(
            await run.venues(), limits, symbol_spec(job.symbol).amount_step, min_profit
        )
        if plan is None:
            result.signal = "hold"
            result.refused = (
                f"no opportunity in {job.symbol} across {', '.join(run.names)} at or above "
                f"{plain(min_profit)}% net of fees, within the riskLimits and the balances"
            )
            result.figures.CopyFrom(figures(**shown))
            return
        best = plan.best
        result.opportunity.CopyFrom(opportunity(best, job.symbol))
        result.worst_case_loss = str(plan.worst_case_loss)
        shown["caps"] = plan.caps
        try:
            buy = await run.order(best.buy_exchange, Side.BUY, best.volume, best.buy_limit_price)
        except OrderRefusedError as exc:
            result.signal, result.refused = "hold", f"buy leg on {best.buy_exchange} refused: {exc}"
            result.figures.CopyFrom(figures(**shown))
            return
        pair = _Pair(best.buy_exchange, buy, best.sell_exchange, best.sell_limit_price)
    result.signal = "arbitrage"
    await _second_leg(run, pair, result, shown)
    result.figures.CopyFrom(figures(**shown))


async def _second_leg(
    run: _Run, pair: _Pair, result: tr.StrategyExecutionResult, shown: dict[str, object]
) -> None:
    """Sell what the buy leg filled (unless an earlier delivery did), then report the pair or the
    leg left open."""
    buy = pair.buy
    result.orders.append(order_message(buy, pair.bought_on))
    result.orders_placed = 1
    try:
        if buy.filled == 0:
            raise OrderRefusedError(
                f"the buy leg on {pair.bought_on} crossed nothing at its limit {buy.price}: the book "
                "moved, nothing was bought and nothing is open"
            )
        if not pair.sell_on:
            raise OrderRefusedError(f"no other venue holds {plain(buy.filled)} {run.base} to sell")
        sell = pair.sold or await run.order(pair.sell_on, Side.SELL, buy.filled, pair.sell_at)
    except OrderRefusedError as exc:
        result.refused = f"sell leg refused: {exc}"
        if buy.filled > 0:
            _open_leg(result, run.symbol, pair.bought_on, buy, buy.filled)
        return
    result.orders.append(order_message(sell, pair.sell_on))
    result.orders_placed = 2
    bought_cost = EXACT.add(buy.cost, buy.fee.cost)
    sold_net = EXACT.subtract(sell.cost, sell.fee.cost)
    matched = bought_cost
    if sell.filled != buy.filled:
        matched = QUOTIENT.divide(EXACT.multiply(bought_cost, sell.filled), buy.filled)
    result.profit = str(EXACT.subtract(sold_net, matched))
    open_amount = EXACT.subtract(buy.filled, sell.filled)
    if open_amount > 0:
        result.refused = (
            f"sell leg on {pair.sell_on} filled {plain(sell.filled)} of {plain(buy.filled)} at its limit "
            f"{pair.sell_at}: the book moved"
        )
        _open_leg(result, run.symbol, pair.bought_on, buy, open_amount)
    shown["quoteChange"] = {pair.bought_on: -bought_cost, pair.sell_on: sold_net}
    shown["baseChange"] = {pair.bought_on: buy.filled, pair.sell_on: -sell.filled}


def _open_leg(
    result: tr.StrategyExecutionResult, symbol: str, venue: str, buy: Order, amount: Decimal
) -> None:
    """Name the leg left open, in the position fields and in the refusal."""
    result.position_exchange, result.position_symbol = venue, symbol
    result.position_amount, result.entry_price = str(amount), str(buy.average)
    result.refused += f"; the buy leg is open: {plain(amount)} {symbol} on {venue} at {buy.average}"
