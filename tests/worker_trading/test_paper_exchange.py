"""The paper exchange against the real Redis: its market replays, its fills are the book's, its
accounts keep ccxt's invariants, and an order happens once, by the worker that still holds its job.

Every expected figure is computed here by hand from the book the exchange itself returns for
the same clock, level by level, never by calling the code under test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import pytest
import redis as sync_redis
import redis.asyncio as aioredis

from jobmesh.jobs.v1 import envelope_pb2
from queue_system.context import JobContext
from queue_system.keys import PaperExchangeKeys
from worker_trading.exchange import (
    Balance,
    Exchange,
    Fence,
    FencedOffError,
    OrderRefusedError,
    UnknownMarketError,
)
from worker_trading.order_book import EXCHANGES, SYMBOLS, Level, Side
from worker_trading.paper_exchange import PaperExchange

D = Decimal
T0 = 1_700_000_000_000  # ms epoch: tick 1,700,000,000 with the default 1 s tick
BINANCE_FEE = D("0.0010")
START = D(100_000)
# The tests trade a cash-only account unless they say otherwise, so every base unit they see is
# one they bought; the default wallet's inventory has a test of its own.
CASH_ONLY = {"USD": START}


class Clock:
    """A clock the test moves by hand, in ms."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def make_paper(redis_client: aioredis.Redis, queue_prefix: str, clock: Clock) -> Callable[..., PaperExchange]:
    def make(**options: Any) -> PaperExchange:
        return PaperExchange(
            redis_client, queue_prefix, **{"clock": clock, "starting_balance": CASH_ONLY, **options}
        )

    return make


@pytest.fixture
def paper(make_paper: Callable[..., PaperExchange]) -> PaperExchange:
    return make_paper()


def walk(levels: Sequence[Level], amount: Decimal) -> tuple[Decimal, Decimal, int]:
    """By hand: (filled, cost, levels used) of a taker order of `amount` over `levels`, best first."""
    filled = cost = D(0)
    used = 0
    for level in levels:
        if filled == amount:
            break
        take = min(level.amount, amount - filled)
        filled += take
        cost += level.price * take
        used += 1
    return filled, cost, used


def fence(token: int = 1, job_id: str = "job-1") -> Fence:
    return Fence(job_id, token)


async def test_the_paper_exchange_is_an_exchange(paper: PaperExchange) -> None:
    # mypy checks this assignment against the Protocol: every method, every signature.
    venue: Exchange = paper
    assert venue is paper


def test_the_fencing_token_is_the_jobs_deliveries_over_its_life() -> None:
    async def progress(_: float) -> bool:
        return True

    ctx = JobContext(envelope_pb2.Job(id="j", queue="q"), deliveries=3, consumer="c", progress=progress)
    assert ctx.fencing_token == 3


# --- the market ---------------------------------------------------------------------------------


async def test_the_market_replays_for_a_seed_and_a_time_and_differs_with_the_seed(
    make_paper: Callable[..., PaperExchange], clock: Clock
) -> None:
    first, again, other = make_paper(seed="s1"), make_paper(seed="s1"), make_paper(seed="s2")
    book = await first.order_book("binance", "BTC/USD")
    assert await again.order_book("binance", "BTC/USD") == book
    assert await again.candles("binance", "BTC/USD", 50) == await first.candles("binance", "BTC/USD", 50)
    assert await again.last_price("binance", "BTC/USD") == await first.last_price("binance", "BTC/USD")
    assert await other.order_book("binance", "BTC/USD") != book
    assert await other.candles("binance", "BTC/USD", 50) != await first.candles("binance", "BTC/USD", 50)

    candles = await first.candles("binance", "BTC/USD", 50)
    assert [c.index for c in candles] == list(range(T0 // 1000 - 49, T0 // 1000 + 1))
    # the book centres on the latest close, moved by the venue's skew (at most 25 bps)
    assert abs(book.mid / candles[-1].close - 1) <= D("0.0026")
    assert await first.last_price("binance", "BTC/USD") == book.mid

    clock.now += 1000  # the next tick: the market has moved, and moving back replays it
    assert await first.order_book("binance", "BTC/USD") != book
    assert (await first.candles("binance", "BTC/USD", 50))[:-1] == candles[1:]
    clock.now -= 1000
    assert await first.order_book("binance", "BTC/USD") == book


async def test_an_unknown_market_is_named_with_the_known_ones(paper: PaperExchange) -> None:
    with pytest.raises(UnknownMarketError, match="unknown exchange 'mtgox'; known: binance, coinbase"):
        await paper.order_book("mtgox", "BTC/USD")
    with pytest.raises(UnknownMarketError, match="unknown symbol 'DOGE/USD'"):
        await paper.candles("binance", "DOGE/USD", 10)


# --- fills, fees, balances -------------------------------------------------------------------------


async def test_a_market_buy_pays_the_vwap_of_the_levels_it_walked_plus_the_taker_fee(
    paper: PaperExchange,
) -> None:
    assert await paper.balance("binance", "alice") == {"USD": Balance(free=START, used=D(0))}
    book = await paper.order_book("binance", "BTC/USD")
    amount = D("1.2")
    filled, cost, used = walk(book.asks, amount)
    assert filled == amount and used >= 2  # deep enough to slip past the best ask

    order = await paper.create_order(
        "binance", "BTC/USD", Side.BUY, amount, account="alice", client_order_id="job-1-buy", fence=fence()
    )

    fee = cost * BINANCE_FEE
    assert (order.type, order.side, order.status, order.price) == ("market", Side.BUY, "closed", None)
    assert order.clientOrderId == "job-1-buy" and order.symbol == "BTC/USD" and order.id == "alice-1"
    assert (order.amount, order.filled, order.remaining, order.cost) == (amount, amount, D(0), cost)
    assert order.amount == order.filled + order.remaining
    assert order.average == cost / amount  # 28 significant digits, as Python's default context
    assert order.average > book.best_ask.price  # the slippage the walk implies
    assert (order.fee.cost, order.fee.currency, order.fee.rate) == (fee, "USD", BINANCE_FEE)
    assert order.timestamp == T0

    balance = await paper.balance("binance", "alice")
    assert balance == {"BTC": Balance(amount, D(0)), "USD": Balance(START - cost - fee, D(0))}
    assert all(b.total == b.free + b.used for b in balance.values())
    assert START - balance["USD"].total == cost + fee
    # another venue's wallet is its own, and still holds the starting balance
    assert await paper.balance("kraken", "alice") == {"USD": Balance(START, D(0))}
    assert await paper.fetch_order("binance", "job-1-buy", account="alice") == order


async def test_an_order_larger_than_the_book_fills_its_depth_and_the_rest_expires(
    make_paper: Callable[..., PaperExchange],
) -> None:
    paper = make_paper(starting_balance={"USD": D(10_000_000)})
    book = await paper.order_book("binance", "BTC/USD")
    depth = sum(level.amount for level in book.asks)
    order = await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D(100), account="whale", client_order_id="big", fence=fence()
    )
    filled, cost, _ = walk(book.asks, D(100))
    assert (order.filled, order.cost, order.status) == (depth, cost, "canceled")
    assert filled == depth and order.remaining == D(100) - depth
    assert order.amount == order.filled + order.remaining


async def test_a_limit_order_fills_only_the_levels_its_price_crosses(paper: PaperExchange) -> None:
    book = await paper.order_book("binance", "BTC/USD")
    limit = book.asks[1].price
    crossing = book.asks[0].amount + book.asks[1].amount
    amount = crossing + D("0.5")
    order = await paper.create_order(
        "binance",
        "BTC/USD",
        Side.BUY,
        amount,
        account="alice",
        client_order_id="lim",
        fence=fence(),
        price=limit,
    )
    _, cost, _ = walk(book.asks[:2], crossing)
    assert (order.type, order.price, order.filled, order.cost) == ("limit", limit, crossing, cost)
    assert (order.remaining, order.status) == (D("0.5"), "canceled")
    # a limit below the best ask crosses nothing: recorded, nothing filled, nothing moved
    below = book.best_ask.price - D("0.01")
    nothing = await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D(1), account="bob", client_order_id="low", fence=fence(), price=below
    )
    assert (nothing.filled, nothing.cost, nothing.average, nothing.status) == (D(0), D(0), None, "canceled")
    assert await paper.balance("binance", "bob") == {"USD": Balance(START, D(0))}


async def test_a_default_wallet_holds_cash_and_inventory_of_every_catalog_base_on_every_venue(
    redis_client: aioredis.Redis, queue_prefix: str, clock: Clock
) -> None:
    paper = PaperExchange(redis_client, queue_prefix, clock=clock)  # the default starting balance
    bases = sorted({symbol.split("/")[0] for symbol in SYMBOLS})
    assert bases == ["BTC", "ETH"]
    for venue in EXCHANGES:
        assert await paper.balance(venue, "desk") == {
            "BTC": Balance(D(1), D(0)),
            "ETH": Balance(D(20), D(0)),
            "USD": Balance(START, D(0)),
        }
    # An arbitrage desk sells on one venue the inventory it holds there and buys on the other:
    # the sell opens no position (inventory has no cost basis), the buy opens one as ever.
    bought_from = await paper.order_book("binance", "BTC/USD")
    sold_into = await paper.order_book("kraken", "BTC/USD")
    await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.1"), account="desk", client_order_id="a-buy", fence=fence()
    )
    sell = await paper.create_order(
        "kraken", "BTC/USD", Side.SELL, D("0.1"), account="desk", client_order_id="a-sell", fence=fence()
    )
    _, buy_cost, _ = walk(bought_from.asks, D("0.1"))
    _, sell_cost, _ = walk(sold_into.bids, D("0.1"))
    assert sell.cost == sell_cost
    kraken_fee = EXCHANGES["kraken"].taker_fee
    assert await paper.balance("kraken", "desk") == {
        "BTC": Balance(D("0.9"), D(0)),
        "ETH": Balance(D(20), D(0)),
        "USD": Balance(START + sell_cost - sell_cost * kraken_fee, D(0)),
    }
    assert (await paper.balance("binance", "desk"))["BTC"] == Balance(D("1.1"), D(0))
    assert (await paper.balance("binance", "desk"))["USD"].free == START - buy_cost - buy_cost * BINANCE_FEE
    assert await paper.position("desk", "kraken", "BTC/USD") is None
    bought = await paper.position("desk", "binance", "BTC/USD")
    assert bought is not None and bought.contracts == D("0.1")
    # selling more than the inventory is refused as ever
    with pytest.raises(OrderRefusedError, match=r"selling 1 BTC needs that much free, and 0\.9 BTC is free"):
        await paper.create_order(
            "kraken", "BTC/USD", Side.SELL, D(1), account="desk", client_order_id="a-2", fence=fence()
        )


# --- exactly once -------------------------------------------------------------------------------------


async def test_the_same_client_order_id_returns_the_first_order_and_changes_nothing(
    paper: PaperExchange, clock: Clock
) -> None:
    first = await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.3"), account="alice", client_order_id="job-7-0", fence=fence()
    )
    after_first = await paper.balance("binance", "alice")
    clock.now += 5000  # a re-delivery, later, asking for something else: the id is the intent
    again = await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.9"), account="alice", client_order_id="job-7-0", fence=fence(2)
    )
    assert again == first
    assert await paper.balance("binance", "alice") == after_first
    position = await paper.position("alice", "binance", "BTC/USD")
    assert position is not None and position.contracts == D("0.3")


async def test_twenty_concurrent_calls_with_one_client_order_id_place_one_order(paper: PaperExchange) -> None:
    book = await paper.order_book("binance", "BTC/USD")
    orders = await asyncio.gather(
        *(
            paper.create_order(
                "binance",
                "BTC/USD",
                Side.BUY,
                D("0.5"),
                account="alice",
                client_order_id="once",
                fence=fence(),
            )
            for _ in range(20)
        )
    )
    assert all(order == orders[0] for order in orders)
    assert orders[0].id == "alice-1"  # the account placed one order: its version is 1
    _, cost, _ = walk(book.asks, D("0.5"))
    balance = await paper.balance("binance", "alice")
    assert balance["USD"].free == START - cost - cost * BINANCE_FEE
    assert balance["BTC"].free == D("0.5")


async def test_twenty_concurrent_different_orders_all_land_once(paper: PaperExchange) -> None:
    # Each commit is checked against the account's version: none is lost to a concurrent one.
    book = await paper.order_book("binance", "BTC/USD")
    orders = await asyncio.gather(
        *(
            paper.create_order(
                "binance",
                "BTC/USD",
                Side.BUY,
                D("0.01"),
                account="alice",
                client_order_id=f"o{i}",
                fence=fence(),
            )
            for i in range(20)
        )
    )
    assert sorted(order.id for order in orders) == sorted(f"alice-{n}" for n in range(1, 21))
    _, cost, _ = walk(book.asks, D("0.01"))  # each order walks the same book, alone
    balance = await paper.balance("binance", "alice")
    assert balance["BTC"].free == D("0.20")
    assert balance["USD"].free == START - 20 * (cost + cost * BINANCE_FEE)


# --- fencing ------------------------------------------------------------------------------------------


async def test_a_stalled_workers_older_token_is_fenced_off_and_changes_nothing(paper: PaperExchange) -> None:
    await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.1"), account="alice", client_order_id="job-1-a", fence=fence(2)
    )
    before = await paper.balance("binance", "alice")
    with pytest.raises(FencedOffError, match="fencing token 1 is fenced off: the exchange has seen token 2"):
        await paper.create_order(
            "binance",
            "BTC/USD",
            Side.BUY,
            D("0.1"),
            account="alice",
            client_order_id="job-1-b",
            fence=fence(1),
        )
    with pytest.raises(FencedOffError):  # a close is an order too
        await paper.close_position("alice", "binance", "BTC/USD", client_order_id="job-1-c", fence=fence(1))
    assert await paper.balance("binance", "alice") == before
    assert await paper.fetch_order("binance", "job-1-b", account="alice") is None
    assert await paper.fetch_order("binance", "job-1-c", account="alice") is None
    # another job's tokens are its own
    await paper.create_order(
        "binance",
        "BTC/USD",
        Side.BUY,
        D("0.1"),
        account="alice",
        client_order_id="job-2-a",
        fence=fence(1, "job-2"),
    )
    third = await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.1"), account="alice", client_order_id="job-1-d", fence=fence(3)
    )
    assert third.status == "closed"
    with pytest.raises(FencedOffError, match="seen token 3"):
        await paper.create_order(
            "binance",
            "BTC/USD",
            Side.BUY,
            D("0.1"),
            account="alice",
            client_order_id="job-1-e",
            fence=fence(2),
        )


async def test_a_takeover_between_the_read_and_the_write_is_still_fenced_off(
    redis_url: str, queue_prefix: str, make_paper: Callable[..., PaperExchange]
) -> None:
    # The fence is checked again inside the atomic step, not only in the read before it: here
    # the job's new holder (token 2) shows up while the stalled attempt is computing its order,
    # as when it replays an order already placed (which records its token and moves nothing).
    paper = make_paper()
    await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.1"), account="alice", client_order_id="job-1-a", fence=fence(1)
    )
    before = await paper.balance("binance", "alice")
    fences = PaperExchangeKeys(queue_prefix, "alice").fences
    with sync_redis.Redis.from_url(redis_url) as other_worker:

        def clock_then_takeover() -> int:
            other_worker.hset(fences, "job-1", 2)  # read by _place just before it computes the order
            return T0

        stalled = make_paper(clock=clock_then_takeover)
        with pytest.raises(FencedOffError, match="has seen token 2"):
            await stalled.create_order(
                "binance",
                "BTC/USD",
                Side.BUY,
                D("0.1"),
                account="alice",
                client_order_id="job-1-b",
                fence=fence(1),
            )
    assert await paper.balance("binance", "alice") == before
    assert await paper.fetch_order("binance", "job-1-b", account="alice") is None


# --- refusals -----------------------------------------------------------------------------------------


async def test_insufficient_funds_are_refused_and_change_nothing(paper: PaperExchange) -> None:
    await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.1"), account="alice", client_order_id="a", fence=fence()
    )
    before = await paper.balance("binance", "alice")
    position = await paper.position("alice", "binance", "BTC/USD")
    with pytest.raises(
        OrderRefusedError,
        match=r"insufficient funds on binance: buying 2 BTC costs .* USD with the fee, and .* USD is free",
    ):
        await paper.create_order(
            "binance", "BTC/USD", Side.BUY, D(2), account="alice", client_order_id="b", fence=fence()
        )
    with pytest.raises(OrderRefusedError, match=r"selling 0.2 BTC needs that much free, and 0.1 BTC is free"):
        await paper.create_order(
            "binance", "BTC/USD", Side.SELL, D("0.2"), account="alice", client_order_id="c", fence=fence()
        )
    assert await paper.balance("binance", "alice") == before
    assert await paper.position("alice", "binance", "BTC/USD") == position
    assert await paper.fetch_order("binance", "b", account="alice") is None
    assert await paper.fetch_order("binance", "c", account="alice") is None


@pytest.mark.parametrize(
    ("exchange", "symbol", "amount", "message"),
    [
        ("binance", "DOGE/USD", D(1), "unknown symbol 'DOGE/USD'"),
        ("mtgox", "BTC/USD", D(1), "unknown exchange 'mtgox'"),
        ("binance", "BTC/USD", D(0), "amount of BTC/USD must be a positive Decimal, got Decimal"),
        ("binance", "BTC/USD", D(-1), "must be a positive Decimal"),
        ("binance", "BTC/USD", 0.5, "must be a positive Decimal, got 0.5"),
        ("binance", "BTC/USD", D("0.00001"), "amount of BTC/USD 0.00001 is not a multiple of 0.0001"),
    ],
)
async def test_bad_orders_are_refused_with_a_reason(
    paper: PaperExchange, exchange: str, symbol: str, amount: Decimal, message: str
) -> None:
    with pytest.raises(OrderRefusedError, match=message):
        await paper.create_order(
            exchange, symbol, Side.BUY, amount, account="alice", client_order_id="x", fence=fence()
        )
    assert await paper.balance("binance", "alice") == {"USD": Balance(START, D(0))}


# --- positions ----------------------------------------------------------------------------------------


async def test_closing_a_position_sells_it_and_realizes_the_hand_computed_pnl(
    paper: PaperExchange, clock: Clock
) -> None:
    amount = D("0.5")
    bought_from = await paper.order_book("binance", "BTC/USD")
    buy = await paper.create_order(
        "binance", "BTC/USD", Side.BUY, amount, account="alice", client_order_id="j-open", fence=fence()
    )
    _, buy_cost, _ = walk(bought_from.asks, amount)
    buy_fee = buy_cost * BINANCE_FEE
    assert (buy.cost, buy.fee.cost) == (buy_cost, buy_fee)

    clock.now += 60_000  # a minute later the market has moved
    mark = await paper.last_price("binance", "BTC/USD")
    position = await paper.position("alice", "binance", "BTC/USD")
    assert position is not None
    assert (position.symbol, position.side, position.contracts) == ("BTC/USD", "long", amount)
    assert position.entryPrice == buy_cost / amount and position.markPrice == mark
    assert position.unrealizedPnl == (mark - buy_cost / amount) * amount
    assert position.notional == amount * mark
    assert position.realizedPnl == -buy_fee  # the buy's fee is realized when paid
    assert position.timestamp == T0

    sold_into = await paper.order_book("binance", "BTC/USD")
    close = await paper.close_position(
        "alice", "binance", "BTC/USD", client_order_id="j-close", fence=fence()
    )
    assert close is not None
    _, sell_cost, _ = walk(sold_into.bids, amount)
    sell_fee = sell_cost * BINANCE_FEE
    assert (close.side, close.amount, close.filled, close.cost, close.fee.cost) == (
        Side.SELL,
        amount,
        amount,
        sell_cost,
        sell_fee,
    )
    realized = (sell_cost - sell_fee) - (buy_cost + buy_fee)

    closed = await paper.position("alice", "binance", "BTC/USD")
    assert closed is not None and closed.contracts == 0 and closed.unrealizedPnl == 0
    assert closed.realizedPnl == realized
    balance = await paper.balance("binance", "alice")
    assert balance["BTC"].free == 0
    assert balance["USD"].free - START == realized  # the round trip's PnL is what the wallet moved

    # closing again with the same id is the same close; with a new one there is nothing to close
    again = await paper.close_position(
        "alice", "binance", "BTC/USD", client_order_id="j-close", fence=fence()
    )
    assert again == close
    assert (
        await paper.close_position("alice", "binance", "BTC/USD", client_order_id="j-2", fence=fence())
        is None
    )
    assert await paper.position("bob", "binance", "BTC/USD") is None


async def test_a_sell_beyond_the_position_realizes_only_the_positions_part(
    make_paper: Callable[..., PaperExchange],
) -> None:
    # Inventory the account started with has no cost basis: selling it realizes nothing.
    paper = make_paper(starting_balance={"USD": START, "BTC": D(1)})
    book = await paper.order_book("binance", "BTC/USD")
    await paper.create_order(
        "binance", "BTC/USD", Side.BUY, D("0.1"), account="alice", client_order_id="b", fence=fence()
    )
    _, buy_cost, _ = walk(book.asks, D("0.1"))
    sell = await paper.create_order(
        "binance", "BTC/USD", Side.SELL, D("0.4"), account="alice", client_order_id="s", fence=fence()
    )
    _, sell_cost, _ = walk(book.bids, D("0.4"))
    assert sell.cost == sell_cost
    position = await paper.position("alice", "binance", "BTC/USD")
    assert position is not None and position.contracts == 0
    # a quarter of the sell closed the position: a quarter of its proceeds and of its fee
    expected = -buy_cost * BINANCE_FEE + (sell_cost / 4 - sell_cost * BINANCE_FEE / 4) - buy_cost
    assert position.realizedPnl == expected
    assert (await paper.balance("binance", "alice"))["BTC"].free == D("0.7")


# --- state that survives ------------------------------------------------------------------------------


async def test_a_restarted_worker_sees_the_same_balances_orders_and_positions(
    redis_client: aioredis.Redis, queue_prefix: str, make_paper: Callable[..., PaperExchange]
) -> None:
    paper = make_paper()
    order = await paper.create_order(
        "coinbase", "ETH/USD", Side.BUY, D("2.5"), account="carol", client_order_id="r-1", fence=fence(4)
    )
    balances, position = (
        await paper.balance("coinbase", "carol"),
        await paper.position("carol", "coinbase", "ETH/USD"),
    )

    # a fresh object, configured otherwise: the account already exists, so its start does not apply
    restarted = make_paper(starting_balance={"USD": D(1)})
    assert await restarted.balance("coinbase", "carol") == balances
    assert await restarted.fetch_order("coinbase", "r-1", account="carol") == order
    assert await restarted.position("carol", "coinbase", "ETH/USD") == position
    with pytest.raises(FencedOffError):  # the fence survives too
        await restarted.create_order(
            "coinbase", "ETH/USD", Side.BUY, D(1), account="carol", client_order_id="r-2", fence=fence(3)
        )
    assert order.fee.rate == EXCHANGES["coinbase"].taker_fee

    # every key of the account shares its hash tag: one order's step is one Cluster slot
    keys = [key.decode() async for key in redis_client.scan_iter(match=f"{queue_prefix}:*", count=1000)]
    tag = PaperExchangeKeys(queue_prefix, "carol").base
    assert keys and all(key.startswith(f"{tag}:") for key in keys)


async def test_reads_of_an_unknown_order_or_account_name_say_so(paper: PaperExchange) -> None:
    assert await paper.fetch_order("binance", "never", account="alice") is None
    with pytest.raises(ValueError, match="account must be printable and without braces, got 'a}b'"):
        await paper.balance("binance", "a}b")
    with pytest.raises(
        OrderRefusedError, match="order 'x' refused: side must be 'buy' or 'sell', got 'hold'"
    ):
        hold: Any = "hold"  # what an untyped caller could pass
        await paper.create_order(
            "binance", "BTC/USD", hold, D(1), account="alice", client_order_id="x", fence=fence()
        )
    with pytest.raises(OrderRefusedError, match="a fencing token is a positive integer, got 0"):
        await paper.create_order(
            "binance", "BTC/USD", Side.BUY, D(1), account="alice", client_order_id="x", fence=fence(0)
        )
