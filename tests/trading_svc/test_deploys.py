"""What a deploy must carry: every bad field named at once, and a good one drafted as asked."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format

from jobmesh.trading.v1 import trading_service_pb2 as pb
from queue_system.decimals import amount_of
from queue_system.errors import InvalidArgumentError
from trading_svc.deploys import draft


def request(body: dict[str, Any]) -> pb.DeployStrategyRequest:
    return json_format.ParseDict(body, pb.DeployStrategyRequest())


def bad_fields(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidArgumentError) as caught:
        draft(request(body))
    return {v.field: v.description for v in caught.value.violations}


MOMENTUM = {
    "strategyName": "momentum",
    "exchange": "binance",
    "symbol": "BTC/USD",
    "parameters": {"period": 14},
    "riskLimits": {"maxPositionSize": 1000, "maxLoss": "50.25"},
}


def test_a_sound_deploy_is_drafted_with_its_limits_exactly() -> None:
    s = draft(request(MOMENTUM))
    assert (s.strategy_name, s.exchange, s.symbol) == ("momentum", "binance", "BTC/USD")
    assert amount_of(s.risk_limits.max_position_size) == 1000
    assert str(amount_of(s.risk_limits.max_loss)) == "50.25"
    assert json_format.MessageToDict(s.parameters) == {"period": 14}
    assert s.strategy_id == "" and s.version == 0  # the runner gives those


def test_every_bad_field_is_named_at_once() -> None:
    bad = bad_fields(
        {
            "strategyName": "martingale",
            "exchange": "mtgox",
            "symbol": "DOGE/EUR",
            "riskLimits": {"maxPositionSize": -5, "maxLoss": "lots", "maxLeverage": 0.5},
        }
    )
    assert set(bad) == {
        "strategy_name",
        "exchange",
        "symbol",
        "risk_limits.max_position_size",
        "risk_limits.max_loss",
        "risk_limits.max_leverage",
    }
    assert "momentum, arbitrage, test" in bad["strategy_name"]
    assert "binance, coinbase, kraken" in bad["exchange"]


def test_an_empty_request_names_what_is_required() -> None:
    assert bad_fields({}) == {
        "strategy_name": "required",
        "exchange": "required",
        "symbol": "required",
        "risk_limits": "required (only the `test` dry run goes without)",
    }


def test_the_dry_run_needs_no_limits() -> None:
    s = draft(request({"strategyName": "test", "exchange": "kraken", "symbol": "ETH/USD"}))
    assert s.strategy_name == "test" and not s.HasField("risk_limits")


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({}, "parameters.exchanges"),
        ({"exchanges": ["binance", "binance"]}, "parameters.exchanges"),
        ({"exchanges": "binance,kraken"}, "parameters.exchanges"),
        ({"exchanges": ["binance", "bitstamp"]}, "parameters.exchanges[1]"),
        ({"exchanges": ["binance", "kraken"], "minProfit": 0}, "parameters.minProfit"),
        ({"exchanges": ["binance", "kraken"], "minProfit": 101}, "parameters.minProfit"),
        ({"exchanges": ["binance", "kraken"], "minProfit": "0.5"}, "parameters.minProfit"),
    ],
)
def test_arbitrage_needs_two_known_exchanges_and_a_sane_minimum(
    parameters: dict[str, Any], field: str
) -> None:
    body = {**MOMENTUM, "strategyName": "arbitrage", "parameters": parameters}
    assert list(bad_fields(body)) == [field]


def test_a_sound_arbitrage_deploy_passes() -> None:
    body = {**MOMENTUM, "strategyName": "arbitrage", "parameters": {"exchanges": ["binance", "kraken"]}}
    assert draft(request(body)).strategy_name == "arbitrage"


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"period": 1}, "parameters.period"),
        ({"period": 14.5}, "parameters.period"),
        ({"period": 99}, "parameters.period"),
        ({"period": "14"}, "parameters.period"),
        ({"overbought": 40}, "parameters.overbought"),
        ({"monitorChecks": 0}, "parameters.monitorChecks"),
        ({"monitorChecks": True}, "parameters.monitorChecks"),
        ({"monitorEverySeconds": 0.01}, "parameters.monitorEverySeconds"),
    ],
)
def test_momentum_and_pacing_parameters_are_checked(parameters: dict[str, Any], field: str) -> None:
    assert list(bad_fields({**MOMENTUM, "parameters": parameters})) == [field]


def test_sound_momentum_and_pacing_parameters_pass() -> None:
    body = {
        **MOMENTUM,
        "parameters": {"period": 21, "overbought": 80, "monitorChecks": 3, "monitorEverySeconds": 2},
    }
    assert draft(request(body)).strategy_name == "momentum"
