"""The eight queues of the seed, the service that runs each, and their limits.

`WORKER_CONFIGS` is the seed's table, verbatim: concurrency is per worker
process (as in BullMQ), the rate limit is shared by every worker of the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

STRATEGY_EXECUTION: Final = "strategy-execution"
ARBITRAGE_DETECTION: Final = "arbitrage-detection"
POSITION_MONITORING: Final = "position-monitoring"
RISK_ANALYSIS: Final = "risk-analysis"
TRANSACTION_SYNC: Final = "transaction-sync"
ACCOUNT_RECONCILIATION: Final = "account-reconciliation"
REPORT_GENERATION: Final = "report-generation"
CATEGORIZATION: Final = "categorization"

TRADING_QUEUES: Final = (STRATEGY_EXECUTION, ARBITRAGE_DETECTION, POSITION_MONITORING, RISK_ANALYSIS)
FINANCIAL_QUEUES: Final = (TRANSACTION_SYNC, ACCOUNT_RECONCILIATION, REPORT_GENERATION, CATEGORIZATION)
ALL_QUEUES: Final = TRADING_QUEUES + FINANCIAL_QUEUES

# JobPayload oneof field that belongs on each queue (a ProbeJob fits any queue).
PAYLOAD_FIELD: Final = {
    STRATEGY_EXECUTION: "strategy_execution",
    ARBITRAGE_DETECTION: "arbitrage_detection",
    POSITION_MONITORING: "position_monitoring",
    RISK_ANALYSIS: "risk_analysis",
    TRANSACTION_SYNC: "transaction_sync",
    ACCOUNT_RECONCILIATION: "account_reconciliation",
    REPORT_GENERATION: "report_generation",
    CATEGORIZATION: "categorization",
}
PROBE_FIELD: Final = "probe"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `max` job starts in any sliding window of `duration_ms`, across all workers."""

    max: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """How one queue runs: jobs at once per worker process, and the shared rate limit."""

    concurrency: int
    limiter: RateLimit | None


# The seed's WORKER_CONFIGS.
WORKER_CONFIGS: Final[dict[str, QueueConfig]] = {
    STRATEGY_EXECUTION: QueueConfig(3, RateLimit(10, 60_000)),
    ARBITRAGE_DETECTION: QueueConfig(5, RateLimit(20, 60_000)),
    POSITION_MONITORING: QueueConfig(10, RateLimit(50, 60_000)),
    RISK_ANALYSIS: QueueConfig(2, RateLimit(5, 60_000)),
    TRANSACTION_SYNC: QueueConfig(3, RateLimit(15, 60_000)),
    ACCOUNT_RECONCILIATION: QueueConfig(2, RateLimit(5, 300_000)),
    REPORT_GENERATION: QueueConfig(1, RateLimit(3, 300_000)),
    CATEGORIZATION: QueueConfig(5, RateLimit(25, 60_000)),
}

# Events of a queue go to the seed channel of its domain.
TRADING_EVENTS_CHANNEL: Final = "trading:events"
FINANCIAL_EVENTS_CHANNEL: Final = "financial:events"
# Mesh-wide events: dlq-svc's pattern alerts and retention trims.
SYSTEM_EVENTS_CHANNEL: Final = "system:events"


def domain_channel(queue: str) -> str:
    """The seed channel that carries a queue's job events."""
    return TRADING_EVENTS_CHANNEL if queue in TRADING_QUEUES else FINANCIAL_EVENTS_CHANNEL


# The markets the seed trades: exchanges and symbols a strategy may name (trading-svc
# checks deploys against them; worker-trading's paper exchange quotes them).
EXCHANGES: Final = ("binance", "coinbase", "kraken")
SYMBOLS: Final = ("BTC/USD", "ETH/USD")
