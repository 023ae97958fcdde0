"""ListStrategies over the wire, with `strategies` strategies stored: how long a filtered page takes.

The data set is stored directly (bench.strategies.seed: StrategyStore.deploy,
mixed states, names, exchanges and symbols). Each filter is then asked
`calls` times, one call at a time, walking its pages by next_page_token and
starting over at the end, so early and deep pages are both timed; each call
is timed from request to reply on this side. Every walk is checked against
the data set: exactly the strategies that pass the filter, newest first,
none twice.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any, Final

import grpc

from bench.measure import percentile
from bench.services import trading_stub
from bench.strategies import Shape, mixed_shapes, seed
from jobmesh.trading.v1 import trading_service_pb2 as pb
from jobmesh.trading.v1 import trading_service_pb2_grpc as pb_grpc
from trading_svc import fsm
from trading_svc.fsm import state_enum
from trading_svc.store import StrategyStore


@dataclass(frozen=True, slots=True)
class ListFilter:
    key: str  # names the figures: list_<key>_p50_ms ...
    label: str
    states: tuple[str, ...] = ()
    name: str = ""
    exchange: str = ""
    symbol: str = ""

    def request(self, page_size: int, token: str = "") -> pb.ListStrategiesRequest:
        return pb.ListStrategiesRequest(
            states=[state_enum(s) for s in self.states],
            strategy_name=self.name,
            exchange=self.exchange,
            symbol=self.symbol,
            page_size=page_size,
            page_token=token,
        )

    def passes(self, s: Shape) -> bool:
        return (
            (not self.states or s.state in self.states)
            and (not self.name or s.name == self.name)
            and (not self.exchange or s.exchange == self.exchange)
            and (not self.symbol or s.symbol == self.symbol)
        )


FILTERS: Final = (
    ListFilter("none", "no filter"),
    ListFilter("state_broad", "state COMPLETED (~90%)", states=(fsm.COMPLETED,)),
    ListFilter("state_rare", "state IDLE (~10%)", states=(fsm.IDLE,)),
    ListFilter("states_two", "states IDLE or COMPLETED (all, two indexes)", states=(fsm.IDLE, fsm.COMPLETED)),
    ListFilter("name", "name arbitrage (~30%)", name="arbitrage"),
    ListFilter(
        "exchange_symbol", "exchange kraken + symbol ETH/USD (~8%)", exchange="kraken", symbol="ETH/USD"
    ),
    ListFilter(
        "combined",
        "COMPLETED + momentum + binance + BTC/USD (~14%)",
        states=(fsm.COMPLETED,),
        name="momentum",
        exchange="binance",
        symbol="BTC/USD",
    ),
    ListFilter(
        "combined_rare",
        "IDLE + test + kraken + ETH/USD (~0.2%)",
        states=(fsm.IDLE,),
        name="test",
        exchange="kraken",
        symbol="ETH/USD",
    ),
)


def _log(what: str) -> None:
    print(f"bench: {what}", file=sys.stderr, flush=True)


async def _walk(
    stub: pb_grpc.TradingServiceStub, f: ListFilter, page_size: int, calls: int, timed: list[float]
) -> list[list[str]]:
    """`calls` calls walking the filter's pages (over again at the end); every complete walk's ids."""
    walks: list[list[str]] = []
    ids: list[str] = []
    token = ""
    for _ in range(calls):
        t0 = time.perf_counter()
        reply = await stub.ListStrategies(f.request(page_size, token), timeout=30)
        timed.append((time.perf_counter() - t0) * 1000)
        ids += [s.strategy_id for s in reply.strategies]
        token = reply.next_page_token
        if not token:
            walks.append(ids)
            ids = []
    return walks


async def list_phase(
    address: str, store: StrategyStore, strategies: int, calls: int, page_size: int
) -> dict[str, Any]:
    """Per filter: matches, pages, p50/p99/max of one call (ms), and whether every walk was right."""
    _log(f"list: storing {strategies} strategies (mixed states, names, exchanges, symbols)")
    shapes = mixed_shapes(strategies)
    t0 = time.perf_counter()
    ids = await seed(store, shapes, "l")
    stored_s = time.perf_counter() - t0
    newest_first = list(reversed(range(len(ids))))
    out: dict[str, Any] = {"strategies": strategies, "page_size": page_size, "seed_s": round(stored_s, 2)}
    rows: list[dict[str, Any]] = []
    async with grpc.aio.insecure_channel(address) as channel:
        stub = trading_stub(channel)
        await _walk(stub, FILTERS[0], page_size, 5, [])  # warm-up
        for f in FILTERS:
            expected = [ids[i] for i in newest_first if f.passes(shapes[i])]
            _log(f"list: {calls} ListStrategies calls, {f.label}: {len(expected)} match")
            timed: list[float] = []
            walks = await _walk(stub, f, page_size, calls, timed)
            timed.sort()
            rows.append(
                {
                    "key": f.key,
                    "label": f.label,
                    "matches": len(expected),
                    "pages": max(1, -(-len(expected) // page_size)),
                    "calls": len(timed),
                    "p50_ms": round(percentile(timed, 0.5), 3),
                    "p99_ms": round(percentile(timed, 0.99), 3),
                    "max_ms": round(timed[-1], 3),
                    "walks": len(walks),
                    "right": all(w == expected for w in walks),
                }
            )
    out["filters"] = rows
    return out
