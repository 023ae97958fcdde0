"""Strategies in Redis: changed only if unchanged since read, their history replays to their state."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio as aioredis

from jobmesh.trading.v1 import strategy_pb2 as spb
from trading_svc.fsm import StrategyMachine, state_enum, state_name
from trading_svc.store import Filters, Stored, StrategyStore, event_json


def strategy(
    sid: str, name: str = "momentum", exchange: str = "binance", symbol: str = "BTC/USD", ms: int = 1
) -> spb.Strategy:
    s = spb.Strategy(strategy_id=sid, strategy_name=name, exchange=exchange, symbol=symbol, version=1)
    s.state = state_enum("ANALYZING")
    s.deployed_at.FromMilliseconds(ms)
    return s


def move(sid: str, source: str, trigger: str, dest: str, version: int) -> spb.StrategyTransition:
    return spb.StrategyTransition(
        from_state=state_enum(source), to_state=state_enum(dest), trigger=trigger, version=version
    )


@pytest.fixture
def store(redis_client: aioredis.Redis, queue_prefix: str) -> StrategyStore:
    return StrategyStore(redis_client, queue_prefix)


async def _deploy(store: StrategyStore, s: spb.Strategy, request_id: str = "") -> str:
    first = move(s.strategy_id, "IDLE", "analyze", "ANALYZING", 1)
    return await store.deploy(s, first, awaiting=["risk-analysis/j1"], request_id=request_id, events=[])


async def test_a_deployed_strategy_reads_back_with_its_first_transition(store: StrategyStore) -> None:
    s = strategy("strategy_1_a")
    assert await _deploy(store, s) == "strategy_1_a"
    got = await store.get("strategy_1_a")
    assert got is not None and got.strategy == s and got.awaiting == ("risk-analysis/j1",)
    history, token = await store.history("strategy_1_a", 10)
    assert [(state_name(t.from_state), t.trigger, state_name(t.to_state)) for t in history] == [
        ("IDLE", "analyze", "ANALYZING")
    ]
    assert token == "" and await store.get("nope") is None


async def test_a_repeated_request_id_makes_one_strategy(store: StrategyStore) -> None:
    first = await _deploy(store, strategy("strategy_1_a"), request_id="deploy-7")
    again = await _deploy(store, strategy("strategy_2_b"), request_id="deploy-7")
    assert first == again == "strategy_1_a"
    assert await store.get("strategy_2_b") is None
    assert await _deploy(store, strategy("strategy_1_a")) == ""  # an id in use is never overwritten


async def test_only_one_of_two_writers_of_the_same_version_wins(store: StrategyStore) -> None:
    await _deploy(store, strategy("strategy_1_a"))
    read = await store.get("strategy_1_a")
    assert read is not None
    to_preparing, to_stopping = spb.Strategy(), spb.Strategy()
    to_preparing.CopyFrom(read.strategy)
    to_stopping.CopyFrom(read.strategy)
    to_preparing.state, to_stopping.state = state_enum("PREPARING"), state_enum("STOPPING")
    to_preparing.version = to_stopping.version = 2
    wins = await asyncio.gather(
        store.commit(read, to_preparing, transition=move("s", "ANALYZING", "prepare", "PREPARING", 2)),
        store.commit(read, to_stopping, transition=move("s", "ANALYZING", "stop", "STOPPING", 2)),
    )
    assert sorted(wins) == [False, True]
    now = await store.get("strategy_1_a")
    assert now is not None and now.version == 2
    history, _ = await store.history("strategy_1_a", 10)
    assert len(history) == 2 and state_name(history[-1].to_state) == now.state  # the loser left no trace
    assert (await store.count_by_state(["ANALYZING", now.state])) == {"ANALYZING": 0, now.state: 1}


async def test_replaying_the_history_reproduces_the_state(store: StrategyStore) -> None:
    machine = StrategyMachine()
    await _deploy(store, strategy("strategy_1_a"))
    for trigger in ("prepare", "fail", "reset", "analyze", "stop", "finish"):
        read = await store.get("strategy_1_a")
        assert read is not None
        after = spb.Strategy()
        after.CopyFrom(read.strategy)
        dest = await machine.next_state(after.strategy_id, read.state, trigger)
        after.state, after.version = state_enum(dest), read.version + 1
        t = move(after.strategy_id, read.state, trigger, dest, after.version)
        assert await store.commit(read, after, transition=t, awaiting=[])
    history, _ = await store.history("strategy_1_a", 100)
    state = "IDLE"
    for t in history:
        assert state_name(t.from_state) == state
        state = await machine.next_state("strategy_1_a", state, t.trigger)
    final = await store.get("strategy_1_a")
    assert final is not None and state == final.state == "COMPLETED" and final.awaiting == ()
    page1, token = await store.history("strategy_1_a", 4)
    page2, end = await store.history("strategy_1_a", 4, token)
    assert [t.trigger for t in page1 + page2] == [t.trigger for t in history] and end == ""


async def test_pages_filter_by_state_name_exchange_and_symbol_newest_first(store: StrategyStore) -> None:
    combos = [
        ("momentum", "binance", "BTC/USD"),
        ("arbitrage", "coinbase", "ETH/USD"),
        ("momentum", "kraken", "ETH/USD"),
    ]
    for i in range(30):
        name, exchange, symbol = combos[i % 3]
        await _deploy(store, strategy(f"strategy_{i:02d}", name, exchange, symbol, ms=1000 + i))

    async def all_pages(filters: Filters, size: int) -> list[str]:
        ids, token = await store.page(filters, size)
        while token:
            more, token = await store.page(filters, size, token)
            ids += more
        return ids

    everything = await all_pages(Filters(), 7)
    assert everything == [f"strategy_{i:02d}" for i in range(29, -1, -1)]
    eth_momentum = await all_pages(Filters(strategy_name="momentum", symbol="ETH/USD"), 3)
    assert eth_momentum == [f"strategy_{i:02d}" for i in range(29, -1, -1) if i % 3 == 2]
    assert await all_pages(Filters(states=("ANALYZING",), exchange="coinbase"), 4) == [
        f"strategy_{i:02d}" for i in range(29, -1, -1) if i % 3 == 1
    ]
    assert await all_pages(Filters(states=("COMPLETED", "ERROR")), 5) == []
    assert [s.strategy_id for s in await store.get_many(["strategy_03", "missing", "strategy_01"])] == [
        "strategy_03",
        "strategy_01",
    ]


async def test_a_transition_is_published_on_trading_events_in_the_seed_shape(
    store: StrategyStore, redis_url: str
) -> None:
    await _deploy(store, strategy("strategy_1_a"))
    read = await store.get("strategy_1_a")
    assert read is not None
    after = spb.Strategy()
    after.CopyFrom(read.strategy)
    after.state, after.version = state_enum("PREPARING"), 2
    t = move("strategy_1_a", "ANALYZING", "prepare", "PREPARING", 2)
    changed = spb.StrategyStateChanged(strategy_id="strategy_1_a", transition=t)
    subscriber = aioredis.Redis.from_url(redis_url)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe("trading:events")
    try:
        await pubsub.get_message(timeout=1)
        assert await store.commit(
            read, after, transition=t, events=[event_json("strategy_state_changed", changed)]
        )
        message = None
        for _ in range(50):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message:
                break
        assert message is not None
        raw = json.loads(message["data"])
        assert (
            set(raw) == {"service", "event", "data", "timestamp"} and raw["event"] == "strategy_state_changed"
        )
        assert (
            raw["data"]["strategyId"] == "strategy_1_a"
            and raw["data"]["transition"]["toState"] == "STRATEGY_STATE_PREPARING"
        )
    finally:
        await pubsub.aclose()
        await subscriber.aclose()


def test_stored_reads_its_state_and_version() -> None:
    s = strategy("x")
    s.version = 7
    assert (Stored(s).state, Stored(s).version) == ("ANALYZING", 7)
