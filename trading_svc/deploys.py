"""What makes a strategy deployable: a known strategy on a known market, with sound risk limits.

Checked before anything is stored, naming every bad field of the request at
once (INVALID_ARGUMENT with a BadRequest), so a bad deploy leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from google.protobuf import json_format

from jobmesh.trading.v1 import strategy_pb2 as spb
from jobmesh.trading.v1 import trading_service_pb2 as pb
from queue_system.catalog import EXCHANGES, SYMBOLS
from queue_system.errors import FieldViolation
from queue_system.validation.job_rules import JOB_RULES
from queue_system.validation.rules import check

# The strategies trading-svc runs. `test` is the seed's dry run: every state, no order.
STRATEGIES: Final = ("momentum", "arbitrage", "test")
# Most position checks one strategy may ask for.
MAX_CHECKS: Final = 10_000


def _one_of(value: str, allowed: tuple[str, ...], field: str, what: str) -> Iterator[FieldViolation]:
    if not value:
        yield FieldViolation(field, "required")
    elif value not in allowed:
        yield FieldViolation(field, f"unknown {what} {value!r}, must be one of {', '.join(allowed)}")


def _arbitrage(params: dict[str, Any]) -> Iterator[FieldViolation]:
    exchanges = params.get("exchanges")
    if not isinstance(exchanges, list) or len({str(e) for e in exchanges}) < 2:
        yield FieldViolation("parameters.exchanges", "arbitrage needs at least two distinct exchanges")
    else:
        for i, e in enumerate(exchanges):
            if e not in EXCHANGES:
                yield FieldViolation(
                    f"parameters.exchanges[{i}]",
                    f"unknown exchange {e!r}, must be one of {', '.join(EXCHANGES)}",
                )
    profit = params.get("minProfit", 0.1)
    if isinstance(profit, bool) or not isinstance(profit, int | float) or not 0 < profit <= 100:
        yield FieldViolation(
            "parameters.minProfit", f"must be a percentage greater than 0 and at most 100, got {profit!r}"
        )


def _number(
    params: dict[str, Any], name: str, low: float, high: float, *, whole: bool = False
) -> Iterator[FieldViolation]:
    if name not in params:
        return
    value = params[name]
    sound = not isinstance(value, bool) and isinstance(value, int | float) and low <= value <= high
    if not sound or (whole and value != int(value)):
        kind = "a whole number" if whole else "a number"
        yield FieldViolation(f"parameters.{name}", f"must be {kind} from {low:g} to {high:g}, got {value!r}")


def _pacing(params: dict[str, Any]) -> Iterator[FieldViolation]:
    """How long MONITORING watches the position: checks, and seconds between two."""
    yield from _number(params, "monitorChecks", 1, MAX_CHECKS, whole=True)
    yield from _number(params, "monitorEverySeconds", 0.1, 86_400)


def draft(request: pb.DeployStrategyRequest) -> spb.Strategy:
    """The strategy a deploy request describes; InvalidArgumentError naming every bad field."""
    bad = [
        *_one_of(request.strategy_name, STRATEGIES, "strategy_name", "strategy"),
        *_one_of(request.exchange, EXCHANGES, "exchange", "exchange"),
        *_one_of(request.symbol, SYMBOLS, "symbol", "symbol"),
    ]
    params = json_format.MessageToDict(request.parameters)
    bad += _pacing(params)
    if request.strategy_name == "arbitrage":
        bad += _arbitrage(params)
    if request.strategy_name == "momentum":
        # the RSI's period must fit the closes the worker reads (100), and overbought sit above 50
        bad += _number(params, "period", 2, 98, whole=True)
        bad += _number(params, "overbought", 50, 100)
    if request.HasField("risk_limits"):
        bad += JOB_RULES.check_message(request.risk_limits, "risk_limits")
    elif request.strategy_name != "test":
        bad.append(FieldViolation("risk_limits", "required (only the `test` dry run goes without)"))
    check(bad)
    return spb.Strategy(
        strategy_name=request.strategy_name,
        exchange=request.exchange,
        symbol=request.symbol,
        parameters=request.parameters,
        risk_limits=request.risk_limits if request.HasField("risk_limits") else None,
    )
