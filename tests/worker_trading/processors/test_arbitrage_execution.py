"""arbitrage's two legs against Hummingbot's method redone by hand, on a paper venue held still.

The fixture walks the clock to the first moment where, by hand, buying at one venue's best
ask and selling at the other's best bid clears both taker fees: bid_b x (1 - f_b) >
ask_a x (1 + f_a). The sizes the tests use stay within both best levels, so every figure
is one level's price times the volume, and Hummingbot's profitability is that ratio - 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

import pytest
from google.protobuf import json_format

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from tests.worker_trading.processors.conftest import Held, context
from worker_trading.exchange import Balance, Fence, FencedOffError, Order, OrderRefusedError
from worker_trading.order_book import EXCHANGES, OrderBook, Side
from worker_trading.paper_exchange import PaperExchange
from worker_trading.processors.strategy_execution import execute

D = Decimal
PAIR, STEP, START = "BTC/USD", D("0.0001"), D(100_000)
ACCOUNT = "strategy_a"


@dataclass
class Moment:
    """A time at which buying on `buy` and selling on `sell` clears both fees at the touch."""

    buy: str
    sell: str
    ask: Decimal  # the buy venue's best ask
    bid: Decimal  # the sell venue's best bid
    buy_fee: Decimal
    sell_fee: Decimal
    buy_book: OrderBook
    sell_book: OrderBook

    @property
    def net_ratio(self) -> Decimal:
        return self.bid * (1 - self.sell_fee) / (self.ask * (1 + self.buy_fee)) - 1


@pytest.fixture
async def moment(paper: PaperExchange, clock: Held) -> Moment:
    for _ in range(3000):
        books = {v: await paper.order_book(v, PAIR) for v in ("binance", "kraken")}
        for a, b in (("binance", "kraken"), ("kraken", "binance")):
            found = Moment(
                a,
                b,
                books[a].best_ask.price,
                books[b].best_bid.price,
                EXCHANGES[a].taker_fee,
                EXCHANGES[b].taker_fee,
                books[a],
                books[b],
            )
            if found.net_ratio > D("0.0001"):
                return found
        clock.ms += 1000
    raise AssertionError("no moment in 3000 s where binance and kraken disagree by more than their fees")


def arbitrage(limits: dict[str, Any] | None = None, **parameters: Any) -> tj.StrategyExecutionJob:
    body = {
        "strategyName": "arbitrage",
        "exchange": "binance",
        "symbol": PAIR,
        "strategyId": ACCOUNT,
        "parameters": {"exchanges": ["binance", "kraken"], "minProfit": 0.01, **parameters},
        "riskLimits": limits or {"maxPositionSize": 1000, "maxLoss": 100},
    }
    return json_format.ParseDict(body, tj.StrategyExecutionJob())


def down(value: Decimal) -> Decimal:
    return value.quantize(STEP, rounding=ROUND_DOWN)


def by_hand(m: Moment, volume: Decimal) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    """(buy cost, buy fee, sell proceeds, sell fee, net profit) of `volume` at the touch."""
    cost, proceeds = volume * m.ask, volume * m.bid
    buy_fee, sell_fee = cost * m.buy_fee, proceeds * m.sell_fee
    return cost, buy_fee, proceeds, sell_fee, proceeds - sell_fee - cost - buy_fee


async def test_buys_on_the_cheaper_venue_sells_on_the_dearer_and_reports_the_net_profit(
    paper: PaperExchange, moment: Moment
) -> None:
    m = moment
    # the quote the buy leg may spend: the least of maxPositionSize (1000), the wallet over
    # (1 + fee), and maxLoss's room for the leg left open, 100 / (0.1 + 2 x fee)
    quote = min(D(1000), START / (1 + m.buy_fee), D(100) / (D("0.1") + 2 * m.buy_fee))
    volume = down(quote / m.ask)
    assert volume < m.buy_book.best_ask.amount and volume < m.sell_book.best_bid.amount
    cost, buy_fee, proceeds, sell_fee, profit = by_hand(m, volume)
    assert profit > 0

    result = await execute(arbitrage(), context("job-1"), paper)

    assert (result.signal, result.refused, result.orders_placed) == ("arbitrage", "", 2)
    buy, sell = result.orders
    assert (buy.exchange, buy.side, buy.client_order_id, buy.type) == (m.buy, "buy", "job-1-buy", "limit")
    assert (D(buy.price), D(buy.filled), D(buy.cost), D(buy.fee_cost)) == (m.ask, volume, cost, buy_fee)
    assert (sell.exchange, sell.side, sell.client_order_id) == (m.sell, "sell", "job-1-sell")
    assert (D(sell.price), D(sell.filled), D(sell.cost), D(sell.fee_cost)) == (
        m.bid,
        volume,
        proceeds,
        sell_fee,
    )
    assert D(result.profit) == profit
    # the opportunity acted on, as Hummingbot prices it: net profit over the fee-inclusive cost
    o = result.opportunity
    assert (o.buy_exchange, o.sell_exchange, D(o.volume), D(o.net_profit)) == (m.buy, m.sell, volume, profit)
    assert o.net_profit_percentage == pytest.approx(float(m.net_ratio * 100), rel=1e-12)
    assert D(result.worst_case_loss) == cost * D("0.1") + 2 * cost * m.buy_fee <= 100
    assert result.position_amount == ""  # both legs traded: nothing is open
    # the profit is what the wallets moved in quote currency; the base moved venue to venue
    bought_on, sold_on = await paper.balance(m.buy, ACCOUNT), await paper.balance(m.sell, ACCOUNT)
    assert bought_on["USD"].free - START + sold_on["USD"].free - START == profit
    assert (bought_on["BTC"].free, sold_on["BTC"].free) == (1 + volume, 1 - volume)
    assert json_format.MessageToDict(result.figures)["quoteChange"][m.buy] == str(-(cost + buy_fee))


async def test_nothing_clears_a_minimum_above_the_gap_so_it_holds(
    paper: PaperExchange, moment: Moment
) -> None:
    assert moment.net_ratio * 100 < 5
    result = await execute(arbitrage(minProfit=5), context(), paper)
    assert (result.signal, result.orders_placed, result.profit) == ("hold", 0, "0")
    assert "no opportunity in BTC/USD across binance, kraken at or above 5% net of fees" in result.refused
    assert (await paper.balance(moment.buy, ACCOUNT))["USD"] == Balance(START, D(0))


async def test_a_wider_stop_lets_max_loss_bind_the_volume(paper: PaperExchange, moment: Moment) -> None:
    m = moment
    # a 50 % stop: the leg left open could lose N x (0.5 + 2 f), so N <= 100 / (0.5 + 2 f)
    volume = down(D(100) / (D("0.5") + 2 * m.buy_fee) / m.ask)
    result = await execute(arbitrage(stoploss=0.5), context(), paper)
    assert D(result.orders[0].filled) == D(result.orders[1].filled) == volume
    assert D(result.profit) == by_hand(m, volume)[4]
    caps = json_format.MessageToDict(result.figures)["caps"]
    assert caps["lossQuote"] == str(D(100) / (D("0.5") + 2 * m.buy_fee))


async def test_the_sell_venues_inventory_caps_the_volume(paper: PaperExchange, moment: Moment) -> None:
    m = moment
    # the desk has sold all but 0.0005 BTC of its inventory on the sell venue
    await paper.create_order(
        m.sell, PAIR, Side.SELL, D("0.9995"), account=ACCOUNT, client_order_id="earlier", fence=Fence("x", 1)
    )
    result = await execute(arbitrage(), context(), paper)
    assert result.refused == ""
    assert [D(o.filled) for o in result.orders] == [D("0.0005"), D("0.0005")]
    assert D(result.profit) == by_hand(m, D("0.0005"))[4]
    assert (await paper.balance(m.sell, ACCOUNT))["BTC"].free == 0


class SellRefused(PaperExchange):
    """A venue that takes buys but refuses every sell, as one going into maintenance would."""

    async def create_order(self, exchange: str, symbol: str, side: Side, amount: Decimal, **kw: Any) -> Order:
        if side is Side.SELL:
            raise OrderRefusedError(f"{exchange} is in maintenance: orders refused")
        return await super().create_order(exchange, symbol, side, amount, **kw)


async def test_a_refused_second_leg_is_reported_with_the_leg_left_open(
    make_paper: Callable[..., PaperExchange], moment: Moment
) -> None:
    m = moment
    volume = down(min(D(1000), D(100) / (D("0.1") + 2 * m.buy_fee)) / m.ask)
    cost = volume * m.ask

    result = await execute(arbitrage(), context("job-1"), make_paper(SellRefused))

    assert (result.signal, result.orders_placed, result.profit) == ("arbitrage", 1, "0")
    assert result.refused.startswith(f"sell leg refused: {m.sell} is in maintenance: orders refused")
    assert f"the buy leg is open: {volume} BTC/USD on {m.buy} at {m.ask}" in result.refused
    assert (result.position_exchange, result.position_symbol) == (m.buy, PAIR)
    assert (D(result.position_amount), D(result.entry_price)) == (volume, m.ask)
    assert [o.side for o in result.orders] == ["buy"]
    assert (await make_paper().balance(m.buy, ACCOUNT))["USD"].free == START - cost - cost * m.buy_fee


async def test_a_job_delivered_after_its_buy_sells_what_was_bought_and_buys_nothing_more(
    paper: PaperExchange, moment: Moment
) -> None:
    m = moment
    volume = down(min(D(1000), D(100) / (D("0.1") + 2 * m.buy_fee)) / m.ask)
    # the first delivery placed its buy, then its worker died
    first = await paper.create_order(
        m.buy,
        PAIR,
        Side.BUY,
        volume,
        account=ACCOUNT,
        client_order_id="job-1-buy",
        fence=Fence("job-1", 1),
        price=m.ask,
    )

    result = await execute(arbitrage(), context("job-1", 2), paper)

    assert result.orders[0].id == first.id and result.orders_placed == 2
    assert (result.orders[1].exchange, D(result.orders[1].filled)) == (m.sell, volume)
    assert D(result.profit) == by_hand(m, volume)[4]
    assert "placed by an earlier delivery" in json_format.MessageToDict(result.figures)["resumed"]
    cost = volume * m.ask
    assert (await paper.balance(m.buy, ACCOUNT))["USD"].free == START - cost - cost * m.buy_fee  # bought once

    # and a third delivery finds both legs: the same report, nothing moves
    wallets = [await paper.balance(v, ACCOUNT) for v in ("binance", "kraken")]
    again = await execute(arbitrage(), context("job-1", 3), paper)
    assert list(again.orders) == list(result.orders) and again.profit == result.profit
    assert [await paper.balance(v, ACCOUNT) for v in ("binance", "kraken")] == wallets


async def test_a_worker_whose_job_was_taken_over_places_no_leg(paper: PaperExchange, moment: Moment) -> None:
    # the job's new holder (token 2) has ordered for the account already
    await paper.create_order(
        moment.sell, PAIR, Side.SELL, STEP, account=ACCOUNT, client_order_id="x", fence=Fence("job-1", 2)
    )
    with pytest.raises(FencedOffError):
        await execute(arbitrage(), context("job-1", 1), paper)
    assert await paper.fetch_order(moment.buy, "job-1-buy", account=ACCOUNT) is None


@pytest.mark.parametrize(
    ("exchanges", "message"),
    [(["binance"], "at least two distinct exchanges"), ("binance", "must be a list of exchange names")],
)
async def test_fewer_than_two_venues_is_bad_input(
    paper: PaperExchange, exchanges: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await execute(arbitrage(exchanges=exchanges), context(), paper)
