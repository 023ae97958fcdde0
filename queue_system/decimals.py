"""Amounts of the job contract: money, sizes and prices, as decimal strings ("150.25") or JSON numbers.

The contract carries amounts in a google.protobuf.Value: a decimal string, or
a JSON number as the seed sends them. Binary floating point must never round
an order size, so this module is the one place that turns either into a
`decimal.Decimal` (`amount_of`; `parse_decimal` for the string), and it is
strict on purpose: `Decimal()` alone
also takes " 1 ", "1_000", "1e999999", "NaN", "Infinity" and non-ASCII digits,
none of which a producer should be able to slip into an order. Only plain
notation is accepted (optional sign, ASCII digits, optional point with digits
on both sides), with at most 18 digits either side of the point, so every
accepted amount fits DECIMAL(36, 18). Arithmetic on such values needs a context
precision of at least 36 digits (Python's default is 28).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Final

from google.protobuf.struct_pb2 import Value

MAX_INTEGER_DIGITS: Final = 18
MAX_FRACTION_DIGITS: Final = 18

_PLAIN: Final = re.compile(r"[+-]?(?P<int>[0-9]+)(?:\.(?P<frac>[0-9]+))?")
_NON_FINITE: Final = re.compile(r"[+-]?(?:s?nan[0-9]*|inf|infinity)", re.IGNORECASE)
_SHOWN_CHARS: Final = 40


class DecimalFormatError(ValueError):
    """A decimal string of the contract is malformed; the message says how, for humans."""


def parse_decimal(
    text: str,
    *,
    max_integer_digits: int = MAX_INTEGER_DIGITS,
    max_fraction_digits: int = MAX_FRACTION_DIGITS,
) -> Decimal:
    """The exact value of a contract decimal string; DecimalFormatError if it is not one."""
    match = _PLAIN.fullmatch(text)
    if match is None:
        if _NON_FINITE.fullmatch(text):
            raise DecimalFormatError(f"must be a finite number, got {quoted(text)}")
        raise DecimalFormatError(
            f'must be a decimal number like "150.25" (digits, an optional sign and point), got {quoted(text)}'
        )
    integer, fraction = match["int"], match["frac"] or ""
    if len(integer) > max_integer_digits:
        raise DecimalFormatError(
            f"has {len(integer)} digits before the point, at most {max_integer_digits} allowed"
        )
    if len(fraction) > max_fraction_digits:
        raise DecimalFormatError(
            f"has {len(fraction)} digits after the point, at most {max_fraction_digits} allowed"
        )
    return Decimal(text)


def quoted(text: str) -> str:
    """A caller's input quoted for an error message, cut short if long (validation uses it too)."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return f"{text[:_SHOWN_CHARS]!r}... ({len(text)} characters)"


def amount_of(value: Value) -> Decimal:
    """The exact decimal of a contract amount: a JSON number or a decimal string in a Value.

    A number is read as the decimal it prints as (the shortest repr that round-trips:
    100 -> 100, 0.1 -> 0.1), never as the binary float's exact expansion; a string is
    read by `parse_decimal`. Either way the same digit bounds hold.
    """
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return parse_decimal(value.string_value)
    if kind == "number_value":
        number = value.number_value
        if not math.isfinite(number):
            raise DecimalFormatError(f"must be a finite number, got {number}")
        return parse_decimal(format(Decimal(repr(number)), "f"))
    raise DecimalFormatError(f"must be a number or a decimal string, got {_kind_name(kind)}")


def _kind_name(kind: str | None) -> str:
    return {None: "nothing", "null_value": "null", "bool_value": "a boolean"}.get(
        kind, "an object" if kind == "struct_value" else "a list"
    )

