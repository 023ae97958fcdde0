"""The one interface the trading processors trade through, on any venue, paper or live.

freqtrade wraps ccxt behind one class, so a strategy never knows which venue it
trades on and its dry run is the live code path with a simulated fill. `Exchange` is
that seam here: `PaperExchange` (paper_exchange.py) is the embedded default, and a
live venue would be one more implementation of the same Protocol.

The records follow ccxt's unified structures, field names included, so whoever knows
ccxt reads them without a glossary: an order has `clientOrderId`, `filled`,
`remaining`, `cost`, `average` and a `fee` of cost, currency and rate; a balance has
`free`, `used` and `total`; a position has `contracts`, `entryPrice`, `markPrice`,
`unrealizedPnl` and `realizedPnl`. ccxt's invariants hold by construction, because
the derived figure is computed, never stored: `remaining = amount - filled`,
`total = free + used`. Every amount is a Decimal.

Orders are exactly-once and fenced. The caller derives `client_order_id` from its job
(`f"{job_id}-{step}"`), so a re-delivered job asking again gets the first order back
and nothing moves twice; and each attempt shows a `Fence`, its job id and fencing
token (`JobContext.fencing_token`), so a worker whose job was taken over while it
stalled can no longer place an order.
"""

# ccxt's camelCase field names (clientOrderId, entryPrice, unrealizedPnl, ...) are kept on purpose.
# ruff: noqa: N802, N815

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, NamedTuple, Protocol, TypeAlias

from worker_trading.order_book import EXACT, Candle, OrderBook, Side

OrderType: TypeAlias = Literal["market", "limit"]
# ccxt's statuses; "canceled" also names an immediate order whose unfilled rest expired.
OrderStatus: TypeAlias = Literal["open", "closed", "canceled"]


class Fence(NamedTuple):
    """Who places an order: the job and its fencing token, which grows with each delivery of the job.

    The exchange keeps the highest token it has seen per job and refuses a lower one
    (`FencedOffError`): a stalled worker whose job another worker took over is fenced off.
    """

    job_id: str
    token: int


@dataclass(frozen=True, slots=True)
class Fee:
    """ccxt's fee structure: `cost` charged in `currency`, at `rate` (a fraction: 0.001 is 0.10 %)."""

    cost: Decimal
    currency: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Order:
    """ccxt's unified order. `price` is a limit's price (None for a market order); `average`
    is cost / filled (None while nothing filled); `cost` is the quote amount filled, fees
    excluded. Construction refuses an order whose figures cannot all be true."""

    id: str
    clientOrderId: str
    timestamp: int  # ms epoch
    symbol: str
    type: OrderType
    side: Side
    price: Decimal | None
    average: Decimal | None
    amount: Decimal
    filled: Decimal
    cost: Decimal
    status: OrderStatus
    fee: Fee

    def __post_init__(self) -> None:
        if not self.amount > 0:
            raise ValueError(f"order {self.clientOrderId}: amount must be positive, got {self.amount}")
        if not 0 <= self.filled <= self.amount:
            raise ValueError(
                f"order {self.clientOrderId}: filled {self.filled} must lie between 0 and {self.amount}"
            )
        if self.cost < 0 or (self.filled == 0) != (self.average is None):
            raise ValueError(
                f"order {self.clientOrderId}: cost {self.cost} and average {self.average} "
                f"do not match filled {self.filled}"
            )

    @property
    def remaining(self) -> Decimal:
        """amount - filled, ccxt's invariant by construction."""
        return EXACT.subtract(self.amount, self.filled)


@dataclass(frozen=True, slots=True)
class Balance:
    """ccxt's balance of one currency: `free` to trade, `used` locked in open orders."""

    free: Decimal
    used: Decimal

    @property
    def total(self) -> Decimal:
        """free + used, ccxt's invariant by construction."""
        return EXACT.add(self.free, self.used)


@dataclass(frozen=True, slots=True)
class Position:
    """ccxt's unified position, for a spot holding: `contracts` of base currency (one contract
    is one unit), held long, bought at `entryPrice` on average and marked at `markPrice`.

    `realizedPnl` counts from the fill that opened the position, net of every fee paid on
    it, so once the position is closed (`contracts` 0, the record kept for this figure)
    it is the quote currency the round trip made or lost. `timestamp` is its latest fill.
    """

    symbol: str
    side: Literal["long", "short"]
    contracts: Decimal
    entryPrice: Decimal
    markPrice: Decimal
    realizedPnl: Decimal
    timestamp: int

    @property
    def notional(self) -> Decimal:
        """contracts x markPrice: what the position is worth at the mark."""
        return EXACT.multiply(self.contracts, self.markPrice)

    @property
    def unrealizedPnl(self) -> Decimal:
        """(markPrice - entryPrice) x contracts, as ccxt defines it (before the fee a close would pay)."""
        return EXACT.multiply(EXACT.subtract(self.markPrice, self.entryPrice), self.contracts)


class Exchange(Protocol):
    """What a trading processor may ask of a venue. Every method names the venue (`exchange`),
    so one object serves a strategy that trades on several, as arbitrage does."""

    async def order_book(self, exchange: str, symbol: str) -> OrderBook:
        """The venue's book for `symbol` now."""
        ...

    async def candles(self, exchange: str, symbol: str, count: int) -> list[Candle]:
        """The latest `count` candles (oldest first), whose closes feed the indicators."""
        ...

    async def last_price(self, exchange: str, symbol: str) -> Decimal:
        """The price the venue quotes for `symbol` now."""
        ...

    async def create_order(
        self,
        exchange: str,
        symbol: str,
        side: Side,
        amount: Decimal,
        *,
        account: str,
        client_order_id: str,
        fence: Fence,
        price: Decimal | None = None,
    ) -> Order:
        """Place a market order (a limit one when `price` is given) of `amount` base currency.

        A repeated `client_order_id` returns the first order and changes nothing.
        Raises OrderRefusedError (nothing changed) or FencedOffError.
        """
        ...

    async def fetch_order(self, exchange: str, client_order_id: str, *, account: str) -> Order | None:
        """The order `account` placed with `client_order_id`, None if there is none."""
        ...

    async def balance(self, exchange: str, account: str) -> dict[str, Balance]:
        """The account's balance on the venue, by currency."""
        ...

    async def position(self, account: str, exchange: str, symbol: str) -> Position | None:
        """The account's position in `symbol` on the venue (its latest, possibly closed);
        None if it never held one."""
        ...

    async def close_position(
        self, account: str, exchange: str, symbol: str, *, client_order_id: str, fence: Fence
    ) -> Order | None:
        """Sell the whole open position at market; None when there is none open (unless
        `client_order_id` already placed an order: that order, as for create_order)."""
        ...


class ExchangeError(Exception):
    """Base of the exchange's errors; each message says what happened in words a person reads."""


class UnknownMarketError(ExchangeError, ValueError):
    """The venue does not list the exchange or symbol asked for (a bad argument, hence a ValueError)."""


class OrderRefusedError(ExchangeError):
    """The venue refused an order and changed nothing: unknown market, bad amount or price,
    insufficient funds."""


class FencedOffError(ExchangeError):
    """An attempt's fencing token is lower than one the exchange has seen for its job: another
    worker took the job over, and this one must stop acting for it."""

    def __init__(self, fence: Fence, highest: int) -> None:
        super().__init__(
            f"job {fence.job_id!r} attempt with fencing token {fence.token} is fenced off: "
            f"the exchange has seen token {highest} for it, so another worker took the job over"
        )
        self.fence = fence
        self.highest = highest
