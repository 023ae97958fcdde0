"""Strategies that trade: momentum buys on a paper venue, holds, exits on time or on a stop;
a breach of riskLimits or a venue that fails sends the strategy to ERROR with the reason.

The paper exchange runs on a clock the test holds still, at a moment the test
chose because Wilder's RSI there says buy, so every run trades the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis
from google.protobuf import json_format

from jobmesh.trading.v1 import trading_service_pb2 as pb
from queue_system import failpoints
from queue_system.catalog import TRADING_EVENTS_CHANNEL
from tests.queue_system.conftest import wait_until
from tests.trading_svc.conftest import SEEN_WITHIN, Mesh, deploy
from trading_svc import fsm
from trading_svc.fsm import state_name
from trading_svc.runner import StrategyRunner
from trading_svc.store import Stored
from worker_trading.exchange import ExchangeError
from worker_trading.indicators import rsi
from worker_trading.order_book import Candle
from worker_trading.paper_exchange import PaperExchange

VENUE, PAIR = "kraken", "ETH/USD"
START_MS = 1_790_000_000_000


def momentum(**parameters: Any) -> dict[str, Any]:
    return {
        "strategyName": "momentum",
        "exchange": VENUE,
        "symbol": PAIR,
        "parameters": parameters,
        "riskLimits": {"maxPositionSize": 1000, "maxLoss": 100},
    }


class Held:
    """A clock that stands still until moved."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def rsi_by_hand(closes: Sequence[Decimal], period: int = 14) -> float:
    """Wilder's RSI of the last close (TA-Lib's RSI): a simple mean of the first `period` gains and
    losses, then each next average = (previous x (period - 1) + this) / period."""
    moves = [float(b - a) for a, b in itertools.pairwise(closes)]
    gain = sum(max(m, 0.0) for m in moves[:period]) / period
    loss = sum(max(-m, 0.0) for m in moves[:period]) / period
    for m in moves[period:]:
        gain = (gain * (period - 1) + max(m, 0.0)) / period
        loss = (loss * (period - 1) + max(-m, 0.0)) / period
    return 100.0 if loss == 0 else 100.0 - 100.0 / (1.0 + gain / loss)


@pytest.fixture
async def venue(redis_client: aioredis.Redis, queue_prefix: str) -> PaperExchange:
    """The paper exchange, held at the first minute from START_MS where momentum buys."""
    clock = Held(START_MS)
    exchange = PaperExchange(redis_client, queue_prefix, clock=clock)
    for minute in range(600):
        clock.ms = START_MS + minute * 60_000
        closes: list[Decimal] = [c.close for c in await exchange.candles(VENUE, PAIR, 100)]
        by_hand = rsi_by_hand(closes)
        assert rsi(closes, 14)[-1] == pytest.approx(by_hand, abs=1e-9)
        if 50 <= by_hand < 70:
            return exchange
    raise AssertionError("no moment in 600 minutes where momentum buys")


async def usd(exchange: PaperExchange, account: str) -> Decimal:
    return (await exchange.balance(VENUE, account))["USD"].free


async def metadata(mesh: Mesh, sid: str) -> dict[str, Any]:
    got = await mesh.stub.GetStrategy(pb.GetStrategyRequest(strategy_id=sid))
    return json_format.MessageToDict(got.strategy.metadata)


async def test_momentum_buys_within_limits_holds_then_exits_on_time(mesh: Mesh, venue: PaperExchange) -> None:
    await mesh.start_worker(venue)
    sid = (
        await mesh.stub.DeployStrategy(deploy(momentum(monitorChecks=2, monitorEverySeconds=0.2)))
    ).strategy.strategy_id
    assert await mesh.reaches(sid, "COMPLETED", "IDLE") == "COMPLETED"
    assert await mesh.path(sid) == ["IDLE", "ANALYZING", "PREPARING", "EXECUTING", "MONITORING", "COMPLETED"]
    meta = await metadata(mesh, sid)
    assert meta["signal"] == "buy" and meta["ordersPlaced"] == 2  # the buy, and the time exit
    assert meta["monitorChecks"] == 2 and meta["positionAmount"] == "0"
    assert Decimal(meta["entryPrice"]) > 0
    # bought within maxPositionSize: entry x amount bought <= 1000
    position = await venue.position(sid, VENUE, PAIR)
    assert position is not None and position.contracts == 0
    # what the strategy says it made is what its wallet moved, to the cent and beyond
    assert (
        await usd(venue, sid)
        == Decimal(100_000) + Decimal(meta["totalProfit"])
        == 100_000 + position.realizedPnl
    )
    assert Decimal(meta["totalProfit"]) < 0  # a round trip at a standing price pays the spread and two fees


async def test_stopping_a_strategy_in_a_position_exits_it_first(mesh: Mesh, venue: PaperExchange) -> None:
    await mesh.start_worker(venue)
    slow = momentum(monitorChecks=100, monitorEverySeconds=3600)  # it would hold for days
    sid = (await mesh.stub.DeployStrategy(deploy(slow))).strategy.strategy_id
    await mesh.reaches(sid, "MONITORING")
    held = await venue.position(sid, VENUE, PAIR)
    assert held is not None and held.contracts > 0

    stopped = await mesh.stub.StopStrategy(pb.StopStrategyRequest(strategy_id=sid, reason="desk closes"))
    # it answers at once: STOPPING while the exit order is on its way
    assert state_name(stopped.strategy.state) in ("STOPPING", "COMPLETED")
    assert await mesh.reaches(sid, "COMPLETED", "IDLE") == "COMPLETED"
    assert await mesh.path(sid) == [
        "IDLE",
        "ANALYZING",
        "PREPARING",
        "EXECUTING",
        "MONITORING",
        "STOPPING",
        "COMPLETED",
    ]
    position = await venue.position(sid, VENUE, PAIR)
    assert position is not None and position.contracts == 0
    meta = await metadata(mesh, sid)
    assert meta["ordersPlaced"] == 2 and meta["positionAmount"] == "0"
    assert await usd(venue, sid) == Decimal(100_000) + Decimal(meta["totalProfit"])


async def test_a_stop_while_the_order_goes_out_counts_it_and_exits_it(
    mesh: Mesh, venue: PaperExchange, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stop lands while strategy-execution runs, its order already placed: the stop waits for
    the job, counts its order and exits the position it opened."""
    monkeypatch.setenv("JOBMESH_FAILPOINTS", "strategy-execution.after-order=6")  # ample on a loaded CI
    failpoints.configured.cache_clear()
    try:
        await mesh.start_worker(venue)
        sid = (await mesh.stub.DeployStrategy(deploy(momentum(monitorChecks=100)))).strategy.strategy_id

        async def bought() -> bool:
            held = await venue.position(sid, VENUE, PAIR)
            return held is not None and held.contracts > 0

        await wait_until(bought, within=SEEN_WITHIN)
        assert await mesh.state(sid) == "EXECUTING"  # the job waits at its failpoint
        await mesh.stub.StopStrategy(pb.StopStrategyRequest(strategy_id=sid, reason="desk closes"))
        assert await mesh.reaches(sid, "COMPLETED", "IDLE") == "COMPLETED"
    finally:
        failpoints.configured.cache_clear()
    assert await mesh.path(sid) == ["IDLE", "ANALYZING", "PREPARING", "EXECUTING", "STOPPING", "COMPLETED"]
    position = await venue.position(sid, VENUE, PAIR)
    assert position is not None and position.contracts == 0
    meta = await metadata(mesh, sid)
    assert (meta["ordersPlaced"], meta["signal"], meta["positionAmount"]) == (2, "buy", "0")
    assert await usd(venue, sid) == Decimal(100_000) + Decimal(meta["totalProfit"])


async def test_a_stop_seen_by_many_passes_at_once_exits_the_position_once(
    mesh: Mesh, venue: PaperExchange
) -> None:
    """The sweep and the queue events may advance one strategy at the same moment: each pass
    that saw it STOPPING decides to exit, and only the first decision is carried out."""
    await mesh.start_worker(venue)
    slow = momentum(monitorChecks=100, monitorEverySeconds=3600)
    sid = (await mesh.stub.DeployStrategy(deploy(slow))).strategy.strategy_id
    await mesh.reaches(sid, "MONITORING")
    stopped = mesh.runner.stop(sid, "desk closes")
    await asyncio.gather(stopped, *(mesh.runner.advance(sid) for _ in range(8)))

    async def completed() -> bool:
        await asyncio.gather(*(mesh.runner.advance(sid) for _ in range(8)))
        return await mesh.state(sid) == "COMPLETED"

    await wait_until(completed, within=SEEN_WITHIN)
    history = (await mesh.stub.GetStrategyHistory(pb.GetStrategyHistoryRequest(strategy_id=sid))).transitions
    assert [fsm.state_name(t.to_state) for t in history][-2:] == ["STOPPING", "COMPLETED"]
    meta = await metadata(mesh, sid)
    assert (meta["ordersPlaced"], meta["positionAmount"]) == (2, "0")  # the buy, one exit
    position = await venue.position(sid, VENUE, PAIR)
    assert position is not None and position.contracts == 0
    assert await usd(venue, sid) == Decimal(100_000) + Decimal(meta["totalProfit"])


async def test_a_var_beyond_max_loss_is_an_error_before_any_order(mesh: Mesh, venue: PaperExchange) -> None:
    await mesh.start_worker(venue)
    tight = {**momentum(), "riskLimits": {"maxPositionSize": 1000, "maxLoss": "0.01"}}
    sid = (await mesh.stub.DeployStrategy(deploy(tight))).strategy.strategy_id
    assert await mesh.reaches(sid, "IDLE") == "IDLE"
    assert await mesh.path(sid) == ["IDLE", "ANALYZING", "PREPARING", "ERROR", "IDLE"]
    got = await mesh.stub.GetStrategy(pb.GetStrategyRequest(strategy_id=sid))
    assert "exceeds maxLoss 0.01" in got.strategy.error and "99% historical VaR" in got.strategy.error
    assert await venue.position(sid, VENUE, PAIR) is None
    assert await usd(venue, sid) == 100_000


class VenueDown(PaperExchange):
    """The venue answers no market data: every attempt fails, as in an outage."""

    async def candles(self, exchange: str, symbol: str, count: int) -> list[Candle]:
        raise ExchangeError(f"{exchange} is unreachable")


async def test_a_job_that_keeps_failing_sends_the_strategy_to_error_with_the_reason(
    mesh: Mesh, redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    await mesh.start_worker(VenueDown(redis_client, queue_prefix))
    sid = (await mesh.stub.DeployStrategy(deploy(momentum()))).strategy.strategy_id
    assert await mesh.reaches(sid, "IDLE") == "IDLE"
    assert await mesh.path(sid) == ["IDLE", "ANALYZING", "ERROR", "IDLE"]
    got = await mesh.stub.GetStrategy(pb.GetStrategyRequest(strategy_id=sid))
    assert "risk-analysis job" in got.strategy.error and "kraken is unreachable" in got.strategy.error


async def test_emergency_stop_exits_twenty_positions_and_says_so(
    mesh: Mesh, venue: PaperExchange, redis_client: aioredis.Redis
) -> None:
    await mesh.start_worker(venue)
    slow = momentum(monitorChecks=100, monitorEverySeconds=3600)
    ids = [(await mesh.stub.DeployStrategy(deploy(slow))).strategy.strategy_id for _ in range(20)]
    for sid in ids:
        await mesh.reaches(sid, "MONITORING")
    events = redis_client.pubsub()
    await events.subscribe(TRADING_EVENTS_CHANNEL)

    stopped = await mesh.stub.EmergencyStopAll(pb.EmergencyStopAllRequest(reason="venue halted"))
    assert sorted(stopped.stopped_strategy_ids) == sorted(ids)
    for sid in ids:
        assert await mesh.reaches(sid, "COMPLETED", "IDLE") == "COMPLETED"
        position = await venue.position(sid, VENUE, PAIR)
        assert position is not None and position.contracts == 0
        history = await mesh.stub.GetStrategyHistory(pb.GetStrategyHistoryRequest(strategy_id=sid))
        assert history.transitions[-2].reason == "emergency stop: venue halted"

    async def announced() -> dict[str, Any]:
        while True:
            message = await events.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is not None and json.loads(message["data"])["event"] == "emergency_stop":
                return dict(json.loads(message["data"]))

    async with asyncio.timeout(SEEN_WITHIN):
        event = await announced()
    await events.aclose()
    assert event["service"] == "trading-svc"
    assert event["data"]["reason"] == "venue halted"
    assert sorted(event["data"]["strategyIds"]) == sorted(ids)


class CrashedError(Exception):
    """trading-svc dying right there."""


class DiesBefore(StrategyRunner):
    """A runner that dies once, just before firing `trigger`: what a SIGKILL between two
    moves of one step leaves behind (the first committed, the second never made)."""

    def __init__(self, runner: StrategyRunner, trigger: str) -> None:
        super().__init__(runner.store, runner.manager)
        self.trigger, self.died = trigger, False

    async def move(self, strategy_id: str, trigger: str | None, reason: str, **kw: Any) -> Stored:
        if trigger == self.trigger and not self.died:
            self.died = True
            raise CrashedError(f"died before {trigger}")
        return await super().move(strategy_id, trigger, reason, **kw)


async def die_once_then_restart(mesh: Mesh, sid: str, dying: DiesBefore, held_in: str) -> None:
    """Advance with the dying runner until it dies, check where that left the strategy, then
    let a fresh driver (the restarted trading-svc) carry on."""

    async def died() -> bool:
        with contextlib.suppress(CrashedError):
            await dying.advance(sid)
        return dying.died

    await wait_until(died, within=SEEN_WITHIN, every=0.05)
    assert await mesh.state(sid) == held_in
    mesh.start_driving()


async def test_a_strategy_left_analysed_but_undecided_is_decided_after_a_restart(
    mesh: Mesh, venue: PaperExchange
) -> None:
    await mesh.stop_driving()
    await mesh.start_worker(venue)
    dry = {"strategyName": "test", "exchange": VENUE, "symbol": PAIR}
    sid = (await mesh.stub.DeployStrategy(deploy(dry))).strategy.strategy_id
    await die_once_then_restart(mesh, sid, DiesBefore(mesh.runner, fsm.EXECUTE), "PREPARING")
    assert await mesh.reaches(sid, "COMPLETED", "IDLE") == "COMPLETED"
    assert await mesh.path(sid) == ["IDLE", "ANALYZING", "PREPARING", "EXECUTING", "MONITORING", "COMPLETED"]


async def test_a_strategy_left_in_error_goes_back_to_idle_after_a_restart(
    mesh: Mesh, venue: PaperExchange
) -> None:
    await mesh.stop_driving()
    await mesh.start_worker(venue)
    tight = {**momentum(), "riskLimits": {"maxPositionSize": 1000, "maxLoss": "0.01"}}
    sid = (await mesh.stub.DeployStrategy(deploy(tight))).strategy.strategy_id
    await die_once_then_restart(mesh, sid, DiesBefore(mesh.runner, fsm.RESET), "ERROR")
    assert await mesh.reaches(sid, "IDLE") == "IDLE"
    assert await mesh.path(sid) == ["IDLE", "ANALYZING", "PREPARING", "ERROR", "IDLE"]
    history = await mesh.stub.GetStrategyHistory(pb.GetStrategyHistoryRequest(strategy_id=sid))
    assert "exceeds maxLoss 0.01" in history.transitions[-1].reason
