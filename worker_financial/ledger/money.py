"""Money in the database: exact Decimal in Python, an integer in SQL.

SQLite has no exact decimal type (SQLAlchemy's Numeric goes through float there),
so an amount is kept as a BIGINT count of ten-thousandths of its currency unit on
every database: 12.34 is 123400. Four places cover every ISO 4217 currency (at most
three) and the sub-cent prices some statements show; an amount with more places is
refused rather than rounded, since a ledger must hold what the bank said. SUM() of
the column is exact, and a BIGINT holds ±922 trillion units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from sqlalchemy import BigInteger, Dialect
from sqlalchemy.types import TypeDecorator

PLACES: Final = 4
_SCALE: Final = Decimal(10) ** PLACES


def to_units(amount: Decimal) -> int:
    """Decimal -> ten-thousandths; ValueError when it has more than four places or is not finite."""
    if not amount.is_finite():
        raise ValueError(f"an amount must be a finite number, got {amount}")
    units = amount * _SCALE
    if units != units.to_integral_value():
        raise ValueError(f"an amount has at most {PLACES} decimal places, got {amount}")
    return int(units)


def from_units(units: int) -> Decimal:
    """Ten-thousandths -> Decimal with the fewest places that keep it exact (but at least two)."""
    exact = (Decimal(units) / _SCALE).normalize()
    exponent = exact.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) else 0
    return exact.quantize(Decimal("0.01")) if places <= 2 else exact


class Money(TypeDecorator[Decimal]):
    """A Decimal amount stored as BIGINT ten-thousandths (see the module docstring)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return None if value is None else to_units(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_units(value)
