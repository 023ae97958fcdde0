"""The paper exchange: jobmesh's embedded, default venue, a deterministic market with real accounts.

The market is a pure function of the seed and the clock. Each symbol has one price
path (order_book.price_path, seeded by the seed and the symbol: one underlying that
every venue tracks, as real venues track one price), cut in sessions of
SESSION_CANDLES candles of `tick_ms` each; a session starts at the symbol's reference
mid, as a market reopening after a gap, so a mesh running for weeks never wanders off
to absurd prices. The current candle is the clock's ms // tick_ms. Each venue's book
(order_book.synthetic_book) centres on that candle's close moved by the venue's own
skew, at most order_book.DEFAULT_SKEW_BPS (25 bps: we keep it rather than pass 0, so
venues disagree a little as real ones do and arbitrage-detection finds something on paper);
`last_price` and a position's mark are the venue's mid. Replaying a time replays the
market, to the cent, on any machine.

Accounts are real: balances, positions, orders and fences live in Redis
(queue_system.keys.PaperExchangeKeys, one hash tag per account). A venue's wallet
opens on first use with the starting balance: unless told otherwise 100,000 USD and
some inventory of each catalog symbol's base currency (1 BTC, 20 ETH), as a desk funds
every venue it trades on, so that an arbitrage can sell on one venue what it buys on
another. Inventory an account starts with is not a position: it has no cost basis, and
selling it realizes nothing (a position is what the account bought).
A market order walks the book (OrderBook.vwap_to_fill): its slippage is the walk's,
and it pays the venue's taker fee in the quote currency. A limit order fills at once
what crosses its price; on either, what the book cannot fill expires (status
"canceled"): no order rests, so nothing is ever `used`.

One order is one atomic step: a Lua script (lua/paper_place.lua) checks and records
the fence, returns the first order if the client order id was used, and writes the
wallet, the position, the order and the account's new version together, or nothing.
Amounts are computed here in Decimal from a consistent snapshot (lua/paper_snapshot.lua)
because Lua's doubles would round them; the script applies them only if the account's
version is still the snapshot's, otherwise the order is computed again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache, lru_cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Final

import redis.asyncio as aioredis

from queue_system.keys import (
    PaperAccountField,
    PaperExchangeKeys,
    PaperOrderField,
    PaperPositionField,
)
from worker_trading.exchange import (
    Balance,
    ExchangeError,
    Fee,
    Fence,
    FencedOffError,
    Order,
    OrderRefusedError,
    OrderStatus,
    OrderType,
    Position,
    UnknownMarketError,
)
from worker_trading.order_book import (
    EXACT,
    QUOTIENT,
    Candle,
    ExchangeSpec,
    Fill,
    OrderBook,
    Side,
    SymbolSpec,
    exchange_spec,
    price_path,
    symbol_spec,
    synthetic_book,
)

# Candles of one session of a symbol's price path (a day of one-minute candles).
SESSION_CANDLES: Final = 1440
# Standard deviation of one candle's log return: 1.9 % over a whole session.
CANDLE_VOLATILITY: Final = Decimal("0.0005")
# What a venue's wallet holds when an account first uses it: cash, and inventory of every base
# currency of the catalog (tests check none is missing), worth about a third to two thirds of
# the cash at the reference mids.
DEFAULT_STARTING_BALANCE: Final[Mapping[str, Decimal]] = MappingProxyType(
    {"USD": Decimal(100_000), "BTC": Decimal(1), "ETH": Decimal(20)}
)
# Orders computed again because another order of the account committed first, before giving up.
MAX_RECOMPUTES: Final = 100
# Longest account name and client order id taken (they are parts of Redis keys).
MAX_NAME_CHARS: Final = 128


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@lru_cache(maxsize=32)
def _session_path(seed: str, symbol: str, session: int) -> tuple[Candle, ...]:
    """One session of `symbol`'s path, its candles numbered by global tick (cached: it is pure)."""
    market = symbol_spec(symbol)
    path = price_path(
        market.reference_mid,
        f"{seed}|{symbol}|{session}",
        SESSION_CANDLES,
        volatility=CANDLE_VOLATILITY,
        price_tick=market.price_tick,
    )
    first = session * SESSION_CANDLES
    return tuple(replace(candle, index=first + candle.index) for candle in path)


@cache
def _script(name: str) -> str:
    """A script's source after the one constant it shares with keys.py."""
    head = f"local VERSION_FIELD = '{PaperAccountField.VERSION}'\n"
    return head + (files("worker_trading") / "lua" / f"{name}.lua").read_text()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _fields(flat: Sequence[bytes | str]) -> dict[str, str]:
    """A hash from HGETALL's flat reply inside a script's answer."""
    return {_text(flat[i]): _text(flat[i + 1]) for i in range(0, len(flat), 2)}


def _amount(value: Decimal) -> str:
    """A decimal string with no exponent, as every amount is stored."""
    return format(value, "f")


def _shown(value: Decimal) -> str:
    """An amount for a person: no exponent, no trailing zeros."""
    return format(value.normalize(EXACT), "f")


# --- what an order does to an account, pure ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Holding:
    """A position as stored: `cost` is the exact quote basis of the contracts held (fees excluded)."""

    contracts: Decimal
    cost: Decimal
    entry_price: Decimal
    realized_pnl: Decimal
    opened_at: int
    updated_at: int

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> _Holding | None:
        if not fields:
            return None
        f = PaperPositionField
        return cls(
            contracts=Decimal(fields[f.CONTRACTS]),
            cost=Decimal(fields[f.COST]),
            entry_price=Decimal(fields[f.ENTRY_PRICE]),
            realized_pnl=Decimal(fields[f.REALIZED_PNL]),
            opened_at=int(fields[f.OPENED_AT]),
            updated_at=int(fields[f.UPDATED_AT]),
        )

    def to_fields(self) -> dict[str, str]:
        f = PaperPositionField
        return {
            f.CONTRACTS: _amount(self.contracts),
            f.COST: _amount(self.cost),
            f.ENTRY_PRICE: _amount(self.entry_price),
            f.REALIZED_PNL: _amount(self.realized_pnl),
            f.OPENED_AT: str(self.opened_at),
            f.UPDATED_AT: str(self.updated_at),
        }

    @property
    def is_open(self) -> bool:
        return self.contracts > 0


def _bought(held: _Holding | None, fill: Fill, fee: Decimal, now: int) -> _Holding:
    """A buy adds to the position (or opens it from flat); its fee is realized at once."""
    if held is None or not held.is_open:
        return _Holding(fill.filled, fill.cost, fill.vwap, EXACT.minus(fee), now, now)
    contracts = EXACT.add(held.contracts, fill.filled)
    cost = EXACT.add(held.cost, fill.cost)
    return _Holding(
        contracts,
        cost,
        QUOTIENT.divide(cost, contracts),
        EXACT.subtract(held.realized_pnl, fee),
        held.opened_at,
        now,
    )


def _sold(held: _Holding, fill: Fill, fee: Decimal, now: int) -> _Holding:
    """A sell reduces the position first (base sold beyond it was never bought through it).

    The part sold from the position realizes its proceeds net of its share of the fee,
    minus its share of the cost basis. Selling it all releases the whole basis, so a
    closed position's realized PnL is exactly what the round trip moved in quote currency.
    """
    sold = min(fill.filled, held.contracts)
    proceeds, fee_part = fill.cost, fee
    if sold != fill.filled:
        proceeds = QUOTIENT.divide(EXACT.multiply(fill.cost, sold), fill.filled)
        fee_part = QUOTIENT.divide(EXACT.multiply(fee, sold), fill.filled)
    released = held.cost
    if sold != held.contracts:
        released = QUOTIENT.divide(EXACT.multiply(held.cost, sold), held.contracts)
    realized = EXACT.add(held.realized_pnl, EXACT.subtract(EXACT.subtract(proceeds, fee_part), released))
    return _Holding(
        EXACT.subtract(held.contracts, sold),
        EXACT.subtract(held.cost, released),
        held.entry_price,
        realized,
        held.opened_at,
        now,
    )


def _fill(book: OrderBook, side: Side, amount: Decimal, limit: Decimal | None) -> Fill | None:
    """The walk a taker order makes: all of `amount` at market, or only the levels a limit crosses."""
    if limit is None:
        return book.vwap_to_fill(side, amount)
    crossing = Decimal(0)
    for level in book.levels_for(side):
        if (level.price > limit) if side is Side.BUY else (level.price < limit):
            break
        crossing = EXACT.add(crossing, level.amount)
    take = min(amount, crossing)
    return book.vwap_to_fill(side, take) if take > 0 else None


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """An account as one script read it: what an order's step computes from."""

    version: int
    highest_token: int
    wallet: dict[str, Decimal]
    holding: _Holding | None
    order: Order | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one order would write, or why it is refused (then it writes nothing)."""

    order: Order
    wallet: dict[str, Decimal]
    holding: _Holding | None
    refusal: str | None = None


def _plan(
    snapshot: _Snapshot,
    *,
    venue: ExchangeSpec,
    market: SymbolSpec,
    book: OrderBook,
    side: Side,
    amount: Decimal,
    limit: Decimal | None,
    order_id: str,
    client_order_id: str,
    now: int,
) -> _Plan:
    """An order's fill against `book` and its effect on the account in `snapshot`."""
    base, quote = market.symbol.split("/")
    fill = _fill(book, side, amount, limit)
    filled = fill.filled if fill else Decimal(0)
    cost = fill.cost if fill else Decimal(0)
    fee = EXACT.multiply(cost, venue.taker_fee)
    order = Order(
        id=order_id,
        clientOrderId=client_order_id,
        timestamp=now,
        symbol=market.symbol,
        type="market" if limit is None else "limit",
        side=side,
        price=limit,
        average=fill.vwap if fill else None,
        amount=amount,
        filled=filled,
        cost=cost,
        status="closed" if filled == amount else "canceled",
        fee=Fee(cost=fee, currency=quote, rate=venue.taker_fee),
    )
    free_base = snapshot.wallet.get(base, Decimal(0))
    free_quote = snapshot.wallet.get(quote, Decimal(0))
    refusal = None
    if side is Side.BUY and EXACT.add(cost, fee) > free_quote:
        refusal = (
            f"insufficient funds on {venue.name}: buying {_shown(filled)} {base} costs "
            f"{_shown(EXACT.add(cost, fee))} {quote} with the fee, and {_shown(free_quote)} {quote} is free"
        )
    elif side is Side.SELL and amount > free_base:
        refusal = (
            f"insufficient funds on {venue.name}: selling {_shown(amount)} {base} needs that much free, "
            f"and {_shown(free_base)} {base} is free"
        )
    if refusal or fill is None:
        return _Plan(order, {}, None, refusal)
    if side is Side.BUY:
        wallet = {quote: EXACT.subtract(free_quote, EXACT.add(cost, fee)), base: EXACT.add(free_base, filled)}
        return _Plan(order, wallet, _bought(snapshot.holding, fill, fee, now))
    wallet = {
        base: EXACT.subtract(free_base, filled),
        quote: EXACT.add(free_quote, EXACT.subtract(cost, fee)),
    }
    held = snapshot.holding
    return _Plan(order, wallet, _sold(held, fill, fee, now) if held and held.is_open else None)


def _order_fields(order: Order, fence: Fence) -> dict[str, str]:
    f = PaperOrderField
    return {
        f.ID: order.id,
        f.CLIENT_ORDER_ID: order.clientOrderId,
        f.TIMESTAMP: str(order.timestamp),
        f.SYMBOL: order.symbol,
        f.TYPE: order.type,
        f.SIDE: order.side.value,
        f.PRICE: "" if order.price is None else _amount(order.price),
        f.AVERAGE: "" if order.average is None else _amount(order.average),
        f.AMOUNT: _amount(order.amount),
        f.FILLED: _amount(order.filled),
        f.COST: _amount(order.cost),
        f.STATUS: order.status,
        f.FEE_COST: _amount(order.fee.cost),
        f.FEE_CURRENCY: order.fee.currency,
        f.FEE_RATE: _amount(order.fee.rate),
        f.FENCE: f"{fence.job_id}|{fence.token}",
    }


_ORDER_TYPES: Final[Mapping[str, OrderType]] = MappingProxyType({"market": "market", "limit": "limit"})
_STATUSES: Final[Mapping[str, OrderStatus]] = MappingProxyType(
    {"open": "open", "closed": "closed", "canceled": "canceled"}
)


def _order(fields: Mapping[str, str]) -> Order | None:
    if not fields:
        return None
    f = PaperOrderField
    try:
        order_type, status = _ORDER_TYPES[fields[f.TYPE]], _STATUSES[fields[f.STATUS]]
    except KeyError:
        raise ExchangeError(f"stored order {fields[f.ID]} has an unknown type or status: {fields}") from None
    return Order(
        id=fields[f.ID],
        clientOrderId=fields[f.CLIENT_ORDER_ID],
        timestamp=int(fields[f.TIMESTAMP]),
        symbol=fields[f.SYMBOL],
        type=order_type,
        side=Side(fields[f.SIDE]),
        price=Decimal(fields[f.PRICE]) if fields[f.PRICE] else None,
        average=Decimal(fields[f.AVERAGE]) if fields[f.AVERAGE] else None,
        amount=Decimal(fields[f.AMOUNT]),
        filled=Decimal(fields[f.FILLED]),
        cost=Decimal(fields[f.COST]),
        status=status,
        fee=Fee(Decimal(fields[f.FEE_COST]), fields[f.FEE_CURRENCY], Decimal(fields[f.FEE_RATE])),
    )


# --- argument checks ---------------------------------------------------------------------------


def _venue(exchange: str) -> ExchangeSpec:
    try:
        return exchange_spec(exchange)
    except ValueError as exc:
        raise UnknownMarketError(str(exc)) from None


def _market(exchange: str, symbol: str) -> tuple[ExchangeSpec, SymbolSpec]:
    venue = _venue(exchange)
    try:
        return venue, symbol_spec(symbol)
    except ValueError as exc:
        raise UnknownMarketError(str(exc)) from None


# Each raises ValueError with a sentence; an order's checks turn it into OrderRefusedError.


def _name(value: object, what: str) -> str:
    """An account name or client order id: part of a Redis key, so bounded and free of hash-tag braces."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_NAME_CHARS:
        raise ValueError(f"{what} must be 1 to {MAX_NAME_CHARS} characters, got {value!r}")
    if "{" in value or "}" in value or not value.isprintable():
        raise ValueError(f"{what} must be printable and without braces, got {value!r}")
    return value


def _on_grid(value: object, step: Decimal, what: str) -> Decimal:
    """An amount or limit price: a positive Decimal (never a float) on the symbol's grid, as venues insist."""
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValueError(f"{what} must be a positive Decimal, got {value!r}")
    if EXACT.remainder(value, step) != 0:
        raise ValueError(f"{what} {value} is not a multiple of {step}")
    return value


def _side(value: object) -> Side:
    if not (isinstance(value, str) and value in (Side.BUY, Side.SELL)):
        raise ValueError(f"side must be 'buy' or 'sell', got {value!r}")
    return Side(value)


def _fence(fence: object) -> Fence:
    if not isinstance(fence, Fence) or not isinstance(fence.job_id, str) or not fence.job_id:
        raise ValueError(f"an order needs a Fence(job_id, token), got {fence!r}")
    if isinstance(fence.token, bool) or not isinstance(fence.token, int) or fence.token < 1:
        raise ValueError(f"a fencing token is a positive integer, got {fence.token!r}")
    return fence


@dataclass(frozen=True, slots=True)
class _Request:
    """An order's checked arguments."""

    venue: ExchangeSpec
    market: SymbolSpec
    side: Side
    account: str
    client_order_id: str
    fence: Fence


def _request(
    exchange: str, symbol: str, side: object, *, account: str, client_order_id: str, fence: object
) -> _Request:
    venue, market = _market(exchange, symbol)
    return _Request(
        venue,
        market,
        _side(side),
        _name(account, "account"),
        _name(client_order_id, "client order id"),
        _fence(fence),
    )


# --- the venue ---------------------------------------------------------------------------------


class PaperExchange:
    """The paper venue: every exchange of the catalog, deterministic for `seed`, accounts in Redis.

    `clock` returns the time in ms (tests pass their own); `tick_ms` is one candle.
    Any number of objects, in any number of processes, may serve the same prefix: all
    their state is in Redis, and a restarted worker sees what it left.
    """

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        *,
        seed: str = "jobmesh",
        tick_ms: int = 1000,
        clock: Callable[[], int] = _now_ms,
        starting_balance: Mapping[str, Decimal] = DEFAULT_STARTING_BALANCE,
    ) -> None:
        if tick_ms < 1:
            raise ValueError(f"tick_ms must be at least 1, got {tick_ms}")
        if any(not (amount.is_finite() and amount >= 0) for amount in starting_balance.values()):
            raise ValueError(
                f"a starting balance must be finite and not negative, got {dict(starting_balance)}"
            )
        self._client = client
        self._prefix = prefix
        self._seed = seed
        self._tick_ms = tick_ms
        self._clock = clock
        self._starting: list[str] = []
        for currency, amount in sorted(starting_balance.items()):
            self._starting += [currency, _amount(amount)]
        self._snapshot_script = client.register_script(_script("paper_snapshot"))
        self._place_script = client.register_script(_script("paper_place"))
        # One path computation at a time: 20 concurrent orders wait for one, not compute twenty.
        self._path_lock = asyncio.Lock()

    # --- the market ---

    async def _candles(self, symbol: str, first: int, last: int) -> list[Candle]:
        """Candles of ticks first..last; sessions are computed off the event loop (0.3 s each)."""
        result: list[Candle] = []
        async with self._path_lock:
            for session in range(first // SESSION_CANDLES, last // SESSION_CANDLES + 1):
                path = await asyncio.to_thread(_session_path, self._seed, symbol, session)
                result += [c for c in path if first <= c.index <= last]
        return result

    async def _book_at(self, exchange: str, symbol: str, tick: int) -> OrderBook:
        [candle] = await self._candles(symbol, tick, tick)
        return synthetic_book(exchange, symbol, candle.close, self._seed, tick)

    def _tick(self, now: int) -> int:
        return now // self._tick_ms

    async def order_book(self, exchange: str, symbol: str) -> OrderBook:
        _market(exchange, symbol)
        return await self._book_at(exchange, symbol, self._tick(self._clock()))

    async def candles(self, exchange: str, symbol: str, count: int) -> list[Candle]:
        """The latest `count` (at most SESSION_CANDLES) candles of the symbol's path; every venue
        shows the same, its underlying. Fewer near tick 0, where the path begins."""
        _market(exchange, symbol)
        if not 0 < count <= SESSION_CANDLES:
            raise ValueError(f"count must be 1 to {SESSION_CANDLES} candles, got {count}")
        tick = self._tick(self._clock())
        return await self._candles(symbol, max(0, tick - count + 1), tick)

    async def last_price(self, exchange: str, symbol: str) -> Decimal:
        """The venue's mid now: its book's centre, where its orders fill around."""
        return (await self.order_book(exchange, symbol)).mid

    # --- accounts ---

    def _keys(self, account: str) -> PaperExchangeKeys:
        return PaperExchangeKeys(self._prefix, _name(account, "account"))

    async def _snapshot(
        self, keys: PaperExchangeKeys, exchange: str, symbol: str, client_order_id: str, job_id: str
    ) -> _Snapshot:
        reply = await self._snapshot_script(
            keys=[
                keys.record,
                keys.fences,
                keys.wallet(exchange),
                keys.position(exchange, symbol),
                keys.order(exchange, client_order_id),
            ],
            args=[job_id, *self._starting],
        )
        return _Snapshot(
            version=int(reply[0]),
            highest_token=int(reply[1]),
            wallet={currency: Decimal(v) for currency, v in _fields(reply[2]).items()},
            holding=_Holding.from_fields(_fields(reply[3])),
            order=_order(_fields(reply[4])),
        )

    async def balance(self, exchange: str, account: str) -> dict[str, Balance]:
        keys = self._keys(account)
        reply = await self._snapshot_script(
            keys=[keys.record, keys.fences, keys.wallet(_venue(exchange).name)],
            args=["", *self._starting],
        )
        wallet = _fields(reply[2])
        return {
            currency: Balance(free=Decimal(wallet[currency]), used=Decimal(0)) for currency in sorted(wallet)
        }

    async def position(self, account: str, exchange: str, symbol: str) -> Position | None:
        _market(exchange, symbol)
        fields = await self._client.hgetall(self._keys(account).position(exchange, symbol))
        held = _Holding.from_fields({_text(k): _text(v) for k, v in fields.items()})
        if held is None:
            return None
        return Position(
            symbol=symbol,
            side="long",
            contracts=held.contracts,
            entryPrice=held.entry_price,
            markPrice=await self.last_price(exchange, symbol),
            realizedPnl=held.realized_pnl,
            timestamp=held.updated_at,
        )

    async def fetch_order(self, exchange: str, client_order_id: str, *, account: str) -> Order | None:
        key = self._keys(account).order(_venue(exchange).name, _name(client_order_id, "client order id"))
        fields = await self._client.hgetall(key)
        return _order({_text(k): _text(v) for k, v in fields.items()})

    # --- orders ---

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
        try:
            request = _request(
                exchange, symbol, side, account=account, client_order_id=client_order_id, fence=fence
            )
            step, tick = request.market.amount_step, request.market.price_tick
            amount = _on_grid(amount, step, f"amount of {symbol}")
            limit = None if price is None else _on_grid(price, tick, f"limit price of {symbol}")
        except ValueError as exc:
            raise OrderRefusedError(f"order {client_order_id!r} refused: {exc}") from None
        order = await self._place(request, amount, limit)
        assert order is not None  # only a close without an open position places nothing
        return order

    async def close_position(
        self, account: str, exchange: str, symbol: str, *, client_order_id: str, fence: Fence
    ) -> Order | None:
        try:
            request = _request(
                exchange, symbol, Side.SELL, account=account, client_order_id=client_order_id, fence=fence
            )
        except ValueError as exc:
            raise OrderRefusedError(f"close {client_order_id!r} refused: {exc}") from None
        return await self._place(request, None, None)

    async def _place(self, request: _Request, amount: Decimal | None, limit: Decimal | None) -> Order | None:
        """Snapshot, compute, commit; again while another order of the account commits first.

        `amount` None sells the whole open position (None returned when none is open).
        """
        keys = PaperExchangeKeys(self._prefix, request.account)
        exchange, symbol, fence = request.venue.name, request.market.symbol, request.fence
        client_order_id = request.client_order_id
        for _ in range(MAX_RECOMPUTES):
            snapshot = await self._snapshot(keys, exchange, symbol, client_order_id, fence.job_id)
            if fence.token < snapshot.highest_token:
                raise FencedOffError(fence, snapshot.highest_token)
            if snapshot.order is not None:
                return snapshot.order
            size = amount
            if size is None:
                if snapshot.holding is None or not snapshot.holding.is_open:
                    return None
                size = snapshot.holding.contracts
            now = self._clock()
            plan = _plan(
                snapshot,
                venue=request.venue,
                market=request.market,
                book=await self._book_at(exchange, symbol, self._tick(now)),
                side=request.side,
                amount=size,
                limit=limit,
                order_id=f"{request.account}-{snapshot.version + 1}",
                client_order_id=client_order_id,
                now=now,
            )
            reply = await self._commit(
                keys, plan, exchange=exchange, symbol=symbol, fence=fence, version=snapshot.version
            )
            outcome = _text(reply[0])
            if outcome == "placed":
                return plan.order
            if outcome == "exists":
                return _order(_fields(reply[1]))
            if outcome == "fenced":
                raise FencedOffError(fence, int(reply[1]))
            if outcome == "refused":
                raise OrderRefusedError(f"order {client_order_id!r} refused: {plan.refusal}")
        raise ExchangeError(
            f"account {request.account!r} is too busy: order {client_order_id!r} was computed "
            f"{MAX_RECOMPUTES} times and each time another order of the account committed first"
        )

    async def _commit(
        self, keys: PaperExchangeKeys, plan: _Plan, *, exchange: str, symbol: str, fence: Fence, version: int
    ) -> Sequence[Any]:
        wallet = [part for currency, v in plan.wallet.items() for part in (currency, _amount(v))]
        position = [
            part for pair in (plan.holding.to_fields() if plan.holding else {}).items() for part in pair
        ]
        order = [part for pair in _order_fields(plan.order, fence).items() for part in pair]
        reply: Sequence[Any] = await self._place_script(
            keys=[
                keys.record,
                keys.fences,
                keys.wallet(exchange),
                keys.position(exchange, symbol),
                keys.order(exchange, plan.order.clientOrderId),
            ],
            args=[
                fence.job_id,
                fence.token,
                version,
                "1" if plan.refusal else "0",
                len(wallet),
                len(position),
                *wallet,
                *position,
                *order,
            ],
        )
        return reply
