"""What happens to a dead letter on its own: a table (data) from category and risk to a strategy.

- retry_delayed: the failure is likely to pass (a timeout, a network blip, a
  rate limit, a worker short of memory): back to the source queue after a
  delay that grows with each retry, at most `max_retries` times per job;
  past that bound a person decides.
- manual_review: held (PENDING) until an operator retries or discards it:
  causes that need a person (credentials, unknown errors), and anything
  critical, since an automatic retry of a half-placed order is not safe.
- discard: kept as a record, marked DISCARDED: a low-risk job whose payload
  can never succeed. Nothing is deleted without a decision; this is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from jobmesh.dlq.v1 import classification_pb2 as cpb

C = cpb
ANY: Final = frozenset(range(1, 5))  # every RiskLevel


@dataclass(frozen=True, slots=True)
class RecoveryRule:
    """Dead letters of `categories` at one of `risks` get `strategy`; delays scale by `delay_factor`."""

    categories: frozenset[int]
    risks: frozenset[int]
    strategy: int  # RecoveryStrategy
    delay_factor: int = 1


TRANSIENT: Final = frozenset(
    {
        C.ERROR_CATEGORY_TIMEOUT,
        C.ERROR_CATEGORY_NETWORK,
        C.ERROR_CATEGORY_RATE_LIMIT,
        C.ERROR_CATEGORY_RESOURCE,
    }
)
# The table, first matching row wins.
RULES: Final[tuple[RecoveryRule, ...]] = (
    RecoveryRule(
        frozenset(range(0, 8)), frozenset({C.RISK_LEVEL_CRITICAL}), C.RECOVERY_STRATEGY_MANUAL_REVIEW
    ),
    RecoveryRule(frozenset({C.ERROR_CATEGORY_RATE_LIMIT}), ANY, C.RECOVERY_STRATEGY_RETRY_DELAYED, 4),
    RecoveryRule(frozenset({C.ERROR_CATEGORY_RESOURCE}), ANY, C.RECOVERY_STRATEGY_RETRY_DELAYED, 2),
    RecoveryRule(TRANSIENT, ANY, C.RECOVERY_STRATEGY_RETRY_DELAYED, 1),
    RecoveryRule(
        frozenset({C.ERROR_CATEGORY_VALIDATION}), frozenset({C.RISK_LEVEL_LOW}), C.RECOVERY_STRATEGY_DISCARD
    ),
)
FALLBACK: Final = RecoveryRule(frozenset(), ANY, C.RECOVERY_STRATEGY_MANUAL_REVIEW)
# A retry's delay doubles with every earlier retry of the job, up to this many doublings.
MAX_DOUBLINGS: Final = 10


@dataclass(frozen=True, slots=True)
class Plan:
    """What to do with a new dead letter: the strategy, and for retry_delayed the delay (ms)."""

    strategy: int
    delay_ms: int = 0
    why: str = ""


def rule_for(category: int, risk: int) -> RecoveryRule:
    return next((r for r in RULES if category in r.categories and risk in r.risks), FALLBACK)


def plan(
    category: int, risk: int, *, retries: int, max_retries: int, base_delay_ms: int, can_run: bool = True
) -> Plan:
    """The recovery of a dead letter of `category` and `risk` whose job dlq-svc retried `retries` times."""
    rule = rule_for(category, risk)
    names = f"{cpb.ErrorCategory.Name(category)} at {cpb.RiskLevel.Name(risk)}"
    if not can_run:  # nothing to run again, and a record that does not decode is a bug to look at
        return Plan(C.RECOVERY_STRATEGY_MANUAL_REVIEW, 0, f"automatic: {names}; its envelope does not decode")
    if rule.strategy != C.RECOVERY_STRATEGY_RETRY_DELAYED:
        return Plan(rule.strategy, 0, f"automatic: {names}")
    if retries >= max_retries:
        return Plan(
            C.RECOVERY_STRATEGY_MANUAL_REVIEW,
            0,
            f"automatic: {names}, retried {retries} time(s) already (the bound is {max_retries})",
        )
    delay = base_delay_ms * rule.delay_factor * 2 ** min(retries, MAX_DOUBLINGS)
    return Plan(rule.strategy, delay, f"automatic: {names}, retry {retries + 1} of {max_retries}")
