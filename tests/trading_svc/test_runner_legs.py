"""Which position a strategy's monitoring and exit jobs name: a momentum's whole position on its
venue; an arbitrage's open leg only (on the venue the execution named, by amount), or nothing
when both legs traded. Pure functions of the strategy, checked without a mesh."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from jobmesh.jobs.v1 import trading_results_pb2 as tr
from jobmesh.trading.v1 import strategy_pb2 as spb
from trading_svc.runner import _record_execution, jobs_for


def strategy(name: str, state: int, **metadata: Any) -> spb.Strategy:
    s = spb.Strategy(
        strategy_id="strategy_1_a", strategy_name=name, exchange="binance", symbol="BTC/USD", state=state
    )
    s.parameters.update({"exchanges": ["binance", "coinbase"]})
    s.metadata.update(metadata)
    return s


def watched(s: spb.Strategy) -> tuple[str, str, dict[str, Any]]:
    (job,) = jobs_for(s)
    watch = job.payload.position_monitoring
    return watch.exchange, watch.symbol, json_format.MessageToDict(watch.parameters)


def test_an_arbitrage_with_a_leg_open_watches_that_leg_only() -> None:
    ran = tr.StrategyExecutionResult(
        signal="arbitrage", orders_placed=2, profit="1.5", position_exchange="coinbase",
        position_symbol="BTC/USD", position_amount="0.004", entry_price="65000",
    )  # fmt: skip
    s = strategy("arbitrage", spb.STRATEGY_STATE_MONITORING)
    _record_execution(ran)(s)
    exchange, symbol, params = watched(s)
    assert (exchange, symbol, params["exitAmount"]) == ("coinbase", "BTC/USD", "0.004")
    assert "flat" not in params

    s.state = spb.STRATEGY_STATE_STOPPING
    s.metadata.update({"exiting": True})
    exchange, _, params = watched(s)
    assert (exchange, params["exitAmount"], params["exitNow"]) == ("coinbase", "0.004", True)


def test_a_hedged_arbitrage_is_flat() -> None:
    ran = tr.StrategyExecutionResult(signal="arbitrage", orders_placed=2, profit="1.5")
    s = strategy("arbitrage", spb.STRATEGY_STATE_MONITORING)
    _record_execution(ran)(s)
    _, _, params = watched(s)
    assert params["flat"] is True and "exitAmount" not in params


def test_a_momentum_watches_its_whole_position_on_its_venue() -> None:
    ran = tr.StrategyExecutionResult(
        signal="buy", orders_placed=1, position_amount="0.01", entry_price="65000"
    )
    s = strategy("momentum", spb.STRATEGY_STATE_MONITORING)
    _record_execution(ran)(s)
    exchange, _, params = watched(s)
    assert exchange == "binance" and "exitAmount" not in params and "flat" not in params
    meta = json_format.MessageToDict(s.metadata)
    assert (meta["ordersPlaced"], meta["positionAmount"], meta["positionExchange"]) == (1, "0.01", "binance")
