"""Strategies the trading bench stores and changes directly through trading_svc's StrategyStore.

For speed, ListStrategies' data set and the watched strategies are written
with `StrategyStore.deploy` (the Lua script DeployStrategy runs), not
deployed one RPC at a time, and the watched strategies are changed with
`StrategyStore.commit` (the script every transition runs). Only states the
strategy driver leaves alone are stored: IDLE and COMPLETED. trading_svc sweeps
strategies at work (ANALYZING, EXECUTING, MONITORING, STOPPING) every 2 s and
would move these, whose jobs do not exist, on its own, and it moves on a
strategy left in PREPARING or ERROR for 5 s (trading_svc.runner.PASSING_S).
The watched strategies change by the FSM's own IDLE -fail-> ERROR -reset->
IDLE cycle, staying in ERROR far less than that.

Nothing here publishes on `trading:events`: that channel has no prefix, and
other processes on a shared Redis may be subscribed to it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from jobmesh.trading.v1 import strategy_pb2 as spb
from queue_system.catalog import EXCHANGES, SYMBOLS
from trading_svc import fsm
from trading_svc.fsm import state_enum
from trading_svc.store import Stored, StrategyStore

# ListStrategies' data set: each dimension's values and weights (selective filters and broad ones).
STATE_MIX: Final = {fsm.COMPLETED: 90, fsm.IDLE: 10}
NAME_MIX: Final = {"momentum": 50, "arbitrage": 30, "test": 20}
EXCHANGE_MIX: Final = dict(zip(EXCHANGES, (50, 30, 20), strict=True))
SYMBOL_MIX: Final = dict(zip(SYMBOLS, (60, 40), strict=True))
SEED_BATCH: Final = 250  # deploy scripts in flight at once while seeding
# The watched strategies' cycle: (trigger, state it leads to) from IDLE, then from ERROR.
CYCLE: Final = {fsm.IDLE: (fsm.FAIL, fsm.ERROR), fsm.ERROR: (fsm.RESET, fsm.IDLE)}
REASONS: Final = {
    fsm.FAIL: "risk-analysis job failed: venue timeout",
    fsm.RESET: "back to IDLE after the error",
}


@dataclass(frozen=True, slots=True)
class Shape:
    """What a stored strategy is, as ListStrategies filters it."""

    state: str
    name: str
    exchange: str
    symbol: str


def _pick(rng: random.Random, mix: dict[str, int]) -> str:
    return rng.choices(list(mix), weights=list(mix.values()))[0]


def mixed_shapes(n: int, seed: int = 7) -> list[Shape]:
    """`n` strategy shapes drawn (reproducibly) from the mixes above."""
    rng = random.Random(seed)
    return [
        Shape(_pick(rng, STATE_MIX), _pick(rng, NAME_MIX), _pick(rng, EXCHANGE_MIX), _pick(rng, SYMBOL_MIX))
        for _ in range(n)
    ]


def record(strategy_id: str, shape: Shape, deployed_ms: int) -> tuple[spb.Strategy, spb.StrategyTransition]:
    """A strategy as DeployStrategy stores one (parameters, limits, metadata), and its first transition."""
    s = spb.Strategy(
        strategy_id=strategy_id,
        strategy_name=shape.name,
        exchange=shape.exchange,
        symbol=shape.symbol,
        state=state_enum(shape.state),
        version=1,
        progress=10.0,
    )
    s.parameters.update({"timeframe": "1h", "period": 14, "overbought": 70})
    if shape.name != "test":
        s.risk_limits.max_position_size.string_value = "1000"
        s.risk_limits.max_loss.string_value = "50"
    s.metadata.update({"strategyName": shape.name, "ordersPlaced": 0, "totalProfit": "0"})
    s.deployed_at.FromMilliseconds(deployed_ms)
    s.updated_at.FromMilliseconds(deployed_ms)
    first = spb.StrategyTransition(
        from_state=state_enum(fsm.IDLE),
        to_state=s.state,
        trigger=fsm.ANALYZE,
        reason="deployed",
        version=1,
        progress=s.progress,
    )
    first.at.FromMilliseconds(deployed_ms)
    return s, first


async def seed(store: StrategyStore, shapes: Sequence[Shape], tag: str) -> list[str]:
    """Store one strategy per shape (ids `strategy_<ms>_<tag><i>`), newest last; their ids."""
    now_ms = time.time_ns() // 1_000_000
    ids = [f"strategy_{now_ms}_{tag}{i:06d}" for i in range(len(shapes))]

    async def one(i: int) -> None:
        s, first = record(ids[i], shapes[i], now_ms - len(shapes) + i)
        made = await store.deploy(s, first, awaiting=(), request_id="", events=())
        if made != s.strategy_id:
            raise RuntimeError(f"strategy {s.strategy_id} not stored (the store answered {made!r})")

    for start in range(0, len(shapes), SEED_BATCH):
        await asyncio.gather(*(one(i) for i in range(start, min(len(shapes), start + SEED_BATCH))))
    return ids


def next_change(before: Stored) -> tuple[spb.Strategy, spb.StrategyTransition]:
    """The next step of the IDLE <-> ERROR cycle, stamped now (as StrategyRunner.move stamps it)."""
    trigger, dest = CYCLE[before.state]
    after = spb.Strategy()
    after.CopyFrom(before.strategy)
    after.state, after.version = state_enum(dest), before.version + 1
    after.updated_at.GetCurrentTime()
    after.error = REASONS[fsm.FAIL] if dest == fsm.ERROR else ""
    t = spb.StrategyTransition(
        from_state=before.strategy.state,
        to_state=after.state,
        trigger=trigger,
        reason=REASONS[trigger],
        version=after.version,
        progress=after.progress,
    )
    t.at.CopyFrom(after.updated_at)
    return after, t
