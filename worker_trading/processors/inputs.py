"""Reading a job's free-form `parameters`: explicit data a user may feed in place of the exchange's."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct, Value

from queue_system.decimals import amount_of
from worker_trading.order_book import EXACT


def params(struct: Struct) -> dict[str, Any]:
    """A Struct as plain Python values."""
    return json_format.MessageToDict(struct)


def decimal(value: object, name: str) -> Decimal:
    """A number or decimal string of the parameters, read exactly (a number as the decimal it prints as)."""
    v = Value()
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"parameters.{name} must be a number or a decimal string, got {value!r}")
    if isinstance(value, str):
        v.string_value = value
    else:
        v.number_value = float(value)
    return amount_of(v)


def decimals(values: object, name: str) -> list[Decimal]:
    if not isinstance(values, list):
        raise ValueError(f"parameters.{name} must be a list of numbers")
    return [decimal(x, f"{name}[{i}]") for i, x in enumerate(values)]


def shown(value: Decimal) -> str:
    """An amount for a person: no exponent, no trailing zeros (a JSON 200 reads 200.0: shown 200)."""
    return format(value.normalize(EXACT), "f")


def figures(**values: Any) -> Struct:
    """Figures for a result, every Decimal as its exact string."""
    out = Struct()
    out.update({k: _plain(v) for k, v in values.items() if v is not None})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
