"""User rules: ordered, case-insensitive tests on payee, description and amount.

A rule holds when every one of its conditions and amount bounds holds (AND);
the first rule that holds names the category, so a user orders rules from the
most specific to the most general. Rules are compiled once per job: a regex
that does not compile, or a rule that could never be told apart from "always",
is the job's input error, named by the rule's position, rather than a rule
that silently never (or always) matches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from queue_system.decimals import DecimalFormatError, amount_of
from worker_financial.categorization.errors import CategorizationInputError
from worker_financial.ledger.entries import TransactionRecord

_FIELDS: dict[int, Callable[[TransactionRecord], str]] = {
    fj.RULE_FIELD_PAYEE: lambda t: t.payee,
    fj.RULE_FIELD_DESCRIPTION: lambda t: t.description,
}


def _norm(text: str) -> str:
    """Case- and blank-insensitive form: "  REWE  Markt " and "rewe markt" compare equal."""
    return " ".join(text.casefold().split())


@dataclass(frozen=True, slots=True)
class Condition:
    """One compiled test of a field; `test` gets the field's normalized text."""

    read: Callable[[TransactionRecord], str]
    test: Callable[[str], bool]

    def holds(self, transaction: TransactionRecord) -> bool:
        return self.test(_norm(self.read(transaction)))


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled user rule: its position (0-based), name, category and the tests that must all hold."""

    position: int
    name: str
    category: str
    conditions: tuple[Condition, ...]
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None

    def matches(self, transaction: TransactionRecord) -> bool:
        amount = transaction.amount
        if self.min_amount is not None and amount < self.min_amount:
            return False
        if self.max_amount is not None and amount > self.max_amount:
            return False
        return all(condition.holds(transaction) for condition in self.conditions)


def first_match(rules: Sequence[Rule], transaction: TransactionRecord) -> Rule | None:
    """The first rule (in the user's order) that holds for the transaction, if any."""
    for rule in rules:
        if rule.matches(transaction):
            return rule
    return None


def _condition(where: str, spec: fj.RuleCondition) -> Condition:
    read = _FIELDS.get(spec.field)
    if read is None:
        raise CategorizationInputError(f"{where}.field must be payee or description")
    operator = spec.operator
    value = _norm(spec.value)
    if operator == fj.RULE_OPERATOR_ONE_OF:
        choices = frozenset(_norm(v) for v in spec.values if v.strip())
        if not choices:
            raise CategorizationInputError(f"{where}.values: one_of needs at least one value")
        return Condition(read, choices.__contains__)
    if operator not in (fj.RULE_OPERATOR_IS, fj.RULE_OPERATOR_CONTAINS, fj.RULE_OPERATOR_REGEX):
        raise CategorizationInputError(f"{where}.operator must be is, contains, regex or one_of")
    if not value:
        raise CategorizationInputError(f"{where}.value is required for this operator")
    if operator == fj.RULE_OPERATOR_IS:
        return Condition(read, value.__eq__)
    if operator == fj.RULE_OPERATOR_CONTAINS:
        return Condition(read, lambda text: value in text)
    try:
        # Matched against the normalized text; the raw pattern so "\s+" or "[A-Z]" keep their sense
        # (IGNORECASE covers the casing the normalization takes away).
        pattern = re.compile(spec.value, re.IGNORECASE)
    except re.error as exc:
        raise CategorizationInputError(
            f"{where}.value is not a valid regex ({spec.value!r}): {exc}"
        ) from None
    return Condition(read, lambda text: pattern.search(text) is not None)


def _amount(where: str, spec: fj.CategoryRule, name: str) -> Decimal | None:
    if not spec.HasField(name):
        return None
    try:
        return amount_of(getattr(spec, name))
    except DecimalFormatError as exc:
        raise CategorizationInputError(f"{where}.{name}: {exc}") from None


def compile_rules(specs: Sequence[fj.CategoryRule], allowed: Sequence[str] = ()) -> tuple[Rule, ...]:
    """The job's rules, compiled and checked (CategorizationInputError names the first bad one).
    With `allowed` categories (the job's user_categories), a rule must assign one of them."""
    rules: list[Rule] = []
    allowed_set = set(allowed)
    for i, spec in enumerate(specs):
        where = f"rules[{i}]"
        category = spec.category.strip()
        if not category:
            raise CategorizationInputError(f"{where}.category is required")
        if allowed_set and category not in allowed_set:
            raise CategorizationInputError(f"{where}.category {category!r} is not one of user_categories")
        conditions = tuple(_condition(f"{where}.conditions[{j}]", c) for j, c in enumerate(spec.conditions))
        low, high = _amount(where, spec, "min_amount"), _amount(where, spec, "max_amount")
        if not conditions and low is None and high is None:
            raise CategorizationInputError(f"{where} has no condition: it would match every transaction")
        if low is not None and high is not None and high < low:
            raise CategorizationInputError(f"{where}.max_amount ({high}) is below min_amount ({low})")
        rules.append(Rule(i, spec.name or where, category, conditions, low, high))
    return tuple(rules)
