"""Decimal strings of the job contract: money, sizes and prices ("150.25").

The contract carries amounts as strings because binary floating point must
never round an order size. This module is the one place that turns such a
string into a `decimal.Decimal`, and it is strict on purpose: `Decimal()` alone
also takes " 1 ", "1_000", "1e999999", "NaN", "Infinity" and non-ASCII digits,
none of which a producer should be able to slip into an order. Only plain
notation is accepted (optional sign, ASCII digits, optional point with digits
on both sides), with at most 18 digits either side of the point, so every
accepted amount fits DECIMAL(36, 18). Arithmetic on such values needs a context
precision of at least 36 digits (Python's default is 28).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

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
