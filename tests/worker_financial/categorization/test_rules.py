"""User rules: is / contains / regex / one_of on payee and description, amount bounds, case and
blanks ignored, AND within a rule, the first matching rule wins; a bad rule is the job's input error."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from google.protobuf import json_format

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from worker_financial.categorization.errors import CategorizationInputError
from worker_financial.categorization.rules import compile_rules, first_match
from worker_financial.ledger.entries import TransactionRecord


def txn(payee: str, description: str = "", amount: str = "-10.00") -> TransactionRecord:
    return TransactionRecord(
        id=1,
        account_id="acc",
        booked=True,
        booking_date=date(2024, 3, 1),
        value_date=None,
        amount=Decimal(amount),
        currency="EUR",
        payee=payee,
        description=description,
        provider_transaction_id=None,
        fingerprint="",
        category=None,
        created_at=datetime.now(UTC),
    )


def rules(*specs: dict[str, Any], allowed: tuple[str, ...] = ()) -> Any:
    return compile_rules([json_format.ParseDict(s, fj.CategoryRule()) for s in specs], allowed)


def cond(field: str, operator: str, value: str | list[str]) -> dict[str, Any]:
    operand = {"values": value} if isinstance(value, list) else {"value": value}
    return {
        "field": f"RULE_FIELD_{field.upper()}",
        "operator": f"RULE_OPERATOR_{operator.upper()}",
        **operand,
    }


def category_of(compiled: Any, transaction: TransactionRecord) -> str | None:
    rule = first_match(compiled, transaction)
    return None if rule is None else rule.category


def test_each_operator_ignores_case_and_blanks() -> None:
    compiled = rules(
        {"category": "rent", "conditions": [cond("payee", "is", "hausverwaltung  SCHMIDT")]},
        {"category": "groceries", "conditions": [cond("payee", "contains", "rewe")]},
        {"category": "transport", "conditions": [cond("description", "regex", r"^ticket\s+\d+")]},
        {"category": "subscriptions", "conditions": [cond("payee", "one_of", ["Netflix.com", "SPOTIFY AB"])]},
    )
    assert category_of(compiled, txn("  Hausverwaltung Schmidt ")) == "rent"
    assert category_of(compiled, txn("Hausverwaltung Schmidt GmbH")) is None  # IS: the whole field
    assert category_of(compiled, txn("REWE SAGT DANKE 4411")) == "groceries"
    assert category_of(compiled, txn("BVG", "TICKET   0815 AB")) == "transport"
    assert category_of(compiled, txn("BVG", "Monthly ticket 0815")) is None  # anchored at the start
    assert category_of(compiled, txn("spotify ab")) == "subscriptions"
    assert category_of(compiled, txn("Spotify AB Stockholm")) is None


def test_all_conditions_of_a_rule_must_hold_and_the_first_matching_rule_wins() -> None:
    compiled = rules(
        {
            "name": "amazon refunds",
            "category": "refunds",
            "conditions": [cond("payee", "contains", "amazon"), cond("description", "contains", "refund")],
            "minAmount": "0.01",
        },
        {"category": "shopping", "conditions": [cond("payee", "contains", "amazon")]},
        {"category": "groceries", "conditions": [cond("payee", "contains", "amazon fresh")]},
    )
    assert category_of(compiled, txn("Amazon EU", "Refund order 1", "25.00")) == "refunds"
    assert category_of(compiled, txn("Amazon EU", "Refund order 1", "-25.00")) == "shopping"  # amount fails
    assert category_of(compiled, txn("Amazon EU", "Order 1")) == "shopping"  # one condition fails
    # "amazon fresh" also matches the earlier, broader rule: order decides.
    assert category_of(compiled, txn("Amazon Fresh")) == "shopping"
    assert first_match(compiled, txn("Amazon EU", "refund", "3")).name == "amazon refunds"


def test_amount_bounds_alone_make_a_rule() -> None:
    compiled = rules({"category": "large income", "minAmount": 1000}, {"category": "out", "maxAmount": "0"})
    assert category_of(compiled, txn("Anyone", amount="1000.00")) == "large income"
    assert category_of(compiled, txn("Anyone", amount="999.99")) is None
    assert category_of(compiled, txn("Anyone", amount="-0.01")) == "out"


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        (
            {"category": "x", "conditions": [cond("payee", "regex", "(unclosed")]},
            "rules[0].conditions[0].value is not a valid regex",
        ),
        ({"category": "", "conditions": [cond("payee", "is", "a")]}, "rules[0].category is required"),
        ({"category": "x"}, "rules[0] has no condition"),
        ({"category": "x", "conditions": [cond("payee", "one_of", [])]}, "one_of needs at least one value"),
        (
            {"category": "x", "conditions": [{"field": "RULE_FIELD_PAYEE", "operator": "RULE_OPERATOR_IS"}]},
            "value is required",
        ),
        (
            {"category": "x", "conditions": [{"operator": "RULE_OPERATOR_IS", "value": "a"}]},
            "field must be payee or description",
        ),
        ({"category": "x", "minAmount": 5, "maxAmount": 1}, "is below min_amount"),
    ],
)
def test_a_bad_rule_is_the_jobs_input_error(spec: dict[str, Any], problem: str) -> None:
    with pytest.raises(CategorizationInputError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        rules(spec)


def test_a_rule_must_assign_one_of_the_users_categories_when_given() -> None:
    spec = {"category": "misc", "conditions": [cond("payee", "is", "a")]}
    with pytest.raises(CategorizationInputError, match="'misc' is not one of user_categories"):
        rules(spec, allowed=("rent", "groceries"))
    assert rules(spec, allowed=("misc",))[0].category == "misc"
