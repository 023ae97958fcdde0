"""Risk and recovery are tables: the queue weighs most, critical is never retried blindly,
retries double their delay and stop at their bound."""

from __future__ import annotations

from dlq_svc import recovery, risk
from jobmesh.dlq.v1 import classification_pb2 as cpb
from queue_system import catalog

C = cpb
MINUTE = 60_000


def test_a_failed_order_outweighs_a_failed_categorization() -> None:
    for category in (C.ERROR_CATEGORY_NETWORK, C.ERROR_CATEGORY_AUTHORIZATION, C.ERROR_CATEGORY_VALIDATION):
        order = risk.level(risk.points(catalog.STRATEGY_EXECUTION, category, 1, 1000))
        label = risk.level(risk.points(catalog.CATEGORIZATION, category, 1, 1000))
        assert order > label, cpb.ErrorCategory.Name(category)


def test_risk_rises_with_attempts_and_falls_with_staleness() -> None:
    q, cat = catalog.ACCOUNT_RECONCILIATION, C.ERROR_CATEGORY_TIMEOUT
    assert risk.points(q, cat, 5, MINUTE) > risk.points(q, cat, 1, MINUTE)
    assert risk.points(q, cat, 1, 10 * MINUTE) > risk.points(q, cat, 1, 2 * 3_600_000)
    assert risk.level(-5) == C.RISK_LEVEL_LOW and risk.level(99) == C.RISK_LEVEL_CRITICAL


def test_recovery_follows_category_and_risk() -> None:
    def strategy(category: int, level: int, retries: int = 0) -> str:
        got = recovery.plan(category, level, retries=retries, max_retries=3, base_delay_ms=1000)
        return cpb.RecoveryStrategy.Name(got.strategy)

    assert strategy(C.ERROR_CATEGORY_NETWORK, C.RISK_LEVEL_MEDIUM) == "RECOVERY_STRATEGY_RETRY_DELAYED"
    assert strategy(C.ERROR_CATEGORY_NETWORK, C.RISK_LEVEL_CRITICAL) == "RECOVERY_STRATEGY_MANUAL_REVIEW"
    assert strategy(C.ERROR_CATEGORY_AUTHORIZATION, C.RISK_LEVEL_LOW) == "RECOVERY_STRATEGY_MANUAL_REVIEW"
    assert strategy(C.ERROR_CATEGORY_UNKNOWN, C.RISK_LEVEL_LOW) == "RECOVERY_STRATEGY_MANUAL_REVIEW"
    assert strategy(C.ERROR_CATEGORY_VALIDATION, C.RISK_LEVEL_LOW) == "RECOVERY_STRATEGY_DISCARD"
    assert strategy(C.ERROR_CATEGORY_VALIDATION, C.RISK_LEVEL_HIGH) == "RECOVERY_STRATEGY_MANUAL_REVIEW"
    assert (
        strategy(C.ERROR_CATEGORY_TIMEOUT, C.RISK_LEVEL_LOW, retries=3) == "RECOVERY_STRATEGY_MANUAL_REVIEW"
    )


def test_retry_delays_double_and_scale_by_category() -> None:
    def delay(category: int, retries: int) -> int:
        return recovery.plan(
            category, C.RISK_LEVEL_LOW, retries=retries, max_retries=9, base_delay_ms=1000
        ).delay_ms

    assert [delay(C.ERROR_CATEGORY_TIMEOUT, n) for n in range(4)] == [1000, 2000, 4000, 8000]
    assert delay(C.ERROR_CATEGORY_RATE_LIMIT, 0) == 4000  # a rate limit waits longer
    assert delay(C.ERROR_CATEGORY_RESOURCE, 0) == 2000
