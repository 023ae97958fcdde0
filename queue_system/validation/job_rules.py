"""The rules of every message a job is made of: one rule per field.

The required fields, ranges and enums the .proto comments document, plus a
bound on every string, list, map and free-form value, so an absurd job cannot
fill Redis. A test checks that every field of every message has a rule, so a
field added to the contract cannot go unchecked.
"""

from __future__ import annotations

import re
from typing import Final

from jobmesh.jobs.v1 import common_pb2, envelope_pb2, financial_jobs_pb2, probe_pb2, trading_jobs_pb2
from queue_system.errors import FieldViolation
from queue_system.validation.rules import (
    AT_LEAST_ONE,
    DAY,
    FRACTION,
    HOUR,
    NON_NEGATIVE,
    PERCENTAGE,
    POSITIVE,
    Across,
    Amount,
    Amounts,
    Blob,
    Bytes,
    Choice,
    Each,
    Free,
    Nested,
    Number,
    Rule,
    RuleBook,
    Span,
    Stamp,
    Text,
    Texts,
    Violations,
    duration_problem,
    length_problem,
    timestamp_problem,
    up_to,
)

MAX_PROBE_PAD_CHARS: Final = 4_096
MAX_JOB_ID_CHARS: Final = 256
# A group key (e.g. a strategy id) ends the name of its group's Redis key, as a job id does its hash's.
MAX_GROUP_KEY_CHARS: Final = 256
# W3C trace context: a traceparent is 55 characters today; room for later versions and a tracestate.
MAX_TRACE_CHARS: Final = 512
# A statement file a manual transaction-sync carries in the job (larger ones go by path): a
# month of a busy account in OFX is well under 100 KiB.
MAX_STATEMENT_BYTES: Final = 512 * 1_024
# A categorization job's user rules: a few hundred cover a household's or a small business's books.
MAX_CATEGORY_RULES: Final = 1_000
MAX_RULE_CONDITIONS: Final = 20
MAX_RULE_VALUE_CHARS: Final = 512
# The ledger's category column (worker_financial/ledger/models.py).
MAX_CATEGORY_CHARS: Final = 128

ATTEMPTS: Final = up_to(100)
KEEP_COUNT: Final = up_to(1_000_000)
JOB_DELAY: Final = up_to(365 * DAY, "365 days")
JOB_TIMEOUT: Final = up_to(24 * HOUR, "24 hours")


# --- rules that span fields ---------------------------------------------------------------------


def _end_not_before_start(dates: common_pb2.DateRange, where: str) -> Violations:
    start, end = dates.start, dates.end
    if not (dates.HasField("start") and dates.HasField("end")):
        return
    if timestamp_problem(start) or timestamp_problem(end):
        return
    if (end.seconds, end.nanos) < (start.seconds, start.nanos):
        yield FieldViolation(
            where, f"must not be before start, got {end.ToJsonString()} < {start.ToJsonString()}"
        )


def _specific_sync_needs_dates(job: financial_jobs_pb2.TransactionSyncJob, where: str) -> Violations:
    if job.sync_type == financial_jobs_pb2.SYNC_TYPE_SPECIFIC and not job.HasField("date_range"):
        yield FieldViolation(where, "required when sync_type is SYNC_TYPE_SPECIFIC")


def _manual_sync_needs_a_statement(job: financial_jobs_pb2.TransactionSyncJob, where: str) -> Violations:
    if job.provider == financial_jobs_pb2.SYNC_PROVIDER_MANUAL and not job.HasField("manual"):
        yield FieldViolation(where, "required when provider is SYNC_PROVIDER_MANUAL: the statement to import")


def _rule_tests_something(rule: financial_jobs_pb2.CategoryRule, where: str) -> Violations:
    if not rule.conditions and not (rule.HasField("min_amount") or rule.HasField("max_amount")):
        yield FieldViolation(
            where, "needs a condition or an amount bound: a rule without one matches everything"
        )


def _condition_has_its_operand(condition: financial_jobs_pb2.RuleCondition, where: str) -> Violations:
    """ONE_OF compares with `values`, the others with `value`; a REGEX must compile (Python syntax,
    as the worker reads it): a pattern that cannot is refused here, not at the worker."""
    operator = condition.operator
    if operator == financial_jobs_pb2.RULE_OPERATOR_ONE_OF:
        if not condition.values:
            yield FieldViolation(where.rpartition(".")[0] + ".values", "needs at least one value for ONE_OF")
        return
    if operator not in (
        financial_jobs_pb2.RULE_OPERATOR_IS,
        financial_jobs_pb2.RULE_OPERATOR_CONTAINS,
        financial_jobs_pb2.RULE_OPERATOR_REGEX,
    ):
        return  # unspecified or unknown: the Choice rule names it
    if not condition.value.strip():
        yield FieldViolation(where, "required for IS, CONTAINS and REGEX")
    elif operator == financial_jobs_pb2.RULE_OPERATOR_REGEX:
        try:
            re.compile(condition.value)
        except re.error as exc:
            yield FieldViolation(where, f"is not a valid regular expression: {exc}")


def _max_delay_not_below_delay(backoff: envelope_pb2.Backoff, where: str) -> Violations:
    if not (backoff.HasField("delay") and backoff.HasField("max_delay")):
        return
    if duration_problem(backoff.delay) or duration_problem(backoff.max_delay):
        return
    if backoff.max_delay.ToNanoseconds() < backoff.delay.ToNanoseconds():
        yield FieldViolation(
            where,
            f"must not be less than delay, got {backoff.max_delay.ToJsonString()}"
            f" < {backoff.delay.ToJsonString()}",
        )


def _job_id(options: envelope_pb2.JobOptions, where: str) -> Violations:
    """The caller's job id becomes part of Redis key names: short, printable, no ':' or spaces."""
    job_id = options.job_id
    problem = length_problem(job_id, MAX_JOB_ID_CHARS)
    if problem:
        yield FieldViolation(where, problem)
    yield from _key_part(job_id, where)


def _key_part(value: str, where: str) -> Violations:
    """A caller's name that becomes part of a Redis key name: no ':', no whitespace, printable."""
    if ":" in value:
        yield FieldViolation(where, "must not contain ':' (it separates the parts of Redis key names)")
    if any(c.isspace() for c in value):
        yield FieldViolation(where, "must not contain whitespace")
    elif not value.isprintable():
        yield FieldViolation(where, "must contain only printable characters")


def _group_key(options: envelope_pb2.JobOptions, where: str) -> Violations:
    """A group key names its group's line in Redis (its length is the Text rule's)."""
    yield from _key_part(options.group_key, where)


def _supersede_needs_group(options: envelope_pb2.JobOptions, where: str) -> Violations:
    if options.supersede_waiting and not options.group_key:
        yield FieldViolation(where, "needs group_key: a job supersedes the waiting jobs of its own group")


_JOB_HEADER: Final[tuple[Rule, ...]] = (Text("id"), Stamp("timestamp"))

# Every message a job is made of -> one rule per field (tests check none is missing).
JOB_RULES: Final = RuleBook({
    trading_jobs_pb2.StrategyExecutionJob: (
        *_JOB_HEADER,
        Text("strategy_name", required=True),
        Text("exchange", required=True),
        Text("symbol", required=True),
        Blob("parameters"),
        Nested("risk_limits", required=True),
        Text("strategy_id"),
    ),
    trading_jobs_pb2.RiskLimits: (
        Amount("max_position_size", required=True, allowed=POSITIVE),
        Amount("max_loss", required=True, allowed=POSITIVE),
        Amount("max_leverage", allowed=AT_LEAST_ONE),
    ),
    trading_jobs_pb2.ArbitrageDetectionJob: (
        *_JOB_HEADER,
        Texts("exchange_pair", min_count=2, distinct=True),
        Text("symbol", required=True),
        Number("min_profit_percentage", PERCENTAGE),
        Amount("max_volume", allowed=POSITIVE),
        Blob("parameters"),
    ),
    trading_jobs_pb2.PositionMonitoringJob: (
        *_JOB_HEADER,
        Text("position_id", required=True),
        Text("exchange", required=True),
        Text("symbol", required=True),
        Choice("monitoring_type", required=True),
        Amounts("thresholds"),
        Blob("parameters"),
    ),
    trading_jobs_pb2.RiskAnalysisJob: (
        *_JOB_HEADER,
        Choice("analysis_type", required=True),
        Nested("scope", required=True),
        Blob("parameters"),
    ),
    trading_jobs_pb2.RiskScope: (
        Texts("positions"),
        Text("timeframe", required=True),
        Text("portfolio_id"),
    ),
    financial_jobs_pb2.TransactionSyncJob: (
        *_JOB_HEADER,
        Text("account_id", required=True),
        Choice("provider", required=True),
        Choice("sync_type", required=True),
        Nested("date_range"),
        Across("date_range", financial_jobs_pb2.TransactionSyncJob, _specific_sync_needs_dates),
        Nested("manual"),
        Across("manual", financial_jobs_pb2.TransactionSyncJob, _manual_sync_needs_a_statement),
    ),
    financial_jobs_pb2.ManualImport: (
        Bytes("content", max_bytes=MAX_STATEMENT_BYTES),
        Text("path"),
        Choice("format"),
        Nested("csv"),
        Text("account_name"),
        Text("currency", max_chars=3),
    ),
    financial_jobs_pb2.CsvColumns: tuple(
        Text(name)
        for name in (
            "date",
            "payee",
            "amount",
            "debit",
            "credit",
            "description",
            "value_date",
            "transaction_id",
            "date_format",
            "decimal_separator",
            "delimiter",
        )
    ),
    financial_jobs_pb2.AccountReconciliationJob: (
        *_JOB_HEADER,
        Text("account_id", required=True),
        Choice("reconciliation_type", required=True),
        Amount("target_balance"),
        Amount("discrepancy_threshold", required=True, allowed=NON_NEGATIVE),
        Nested("date_range"),
    ),
    financial_jobs_pb2.ReportGenerationJob: (
        *_JOB_HEADER,
        Choice("report_type", required=True),
        Choice("format", required=True),
        Nested("parameters", required=True),
    ),
    financial_jobs_pb2.ReportParameters: (
        Nested("date_range", required=True),
        Blob("filters"),
    ),
    financial_jobs_pb2.CategorizationJob: (
        *_JOB_HEADER,
        Texts("transaction_ids"),
        Choice("method", required=True),
        Nested("options"),
        Each("rules", max_count=MAX_CATEGORY_RULES),
        Free("save_rules"),
    ),
    financial_jobs_pb2.CategoryRule: (
        Text("name"),
        Text("category", required=True, max_chars=MAX_CATEGORY_CHARS),
        Each("conditions", max_count=MAX_RULE_CONDITIONS),
        Amount("min_amount"),
        Amount("max_amount"),
        Across("conditions", financial_jobs_pb2.CategoryRule, _rule_tests_something),
    ),
    financial_jobs_pb2.RuleCondition: (
        Choice("field", required=True),
        Choice("operator", required=True),
        Text("value", max_chars=MAX_RULE_VALUE_CHARS),
        Texts("values"),
        Across("value", financial_jobs_pb2.RuleCondition, _condition_has_its_operand),
    ),
    financial_jobs_pb2.CategorizationOptions: (
        Text("ai_model"),
        Number("confidence", FRACTION),
        Texts("user_categories"),
    ),
    common_pb2.DateRange: (
        Stamp("start", required=True),
        Stamp("end", required=True),
        Across("end", common_pb2.DateRange, _end_not_before_start),
    ),
    probe_pb2.ProbeJob: (
        Free("seq"),
        Stamp("sent_at"),
        Text("pad", max_chars=MAX_PROBE_PAD_CHARS),
    ),
    envelope_pb2.JobOptions: (
        Choice("priority"),
        Span("delay", JOB_DELAY),
        Number("attempts", ATTEMPTS),
        Nested("backoff"),
        Across("job_id", envelope_pb2.JobOptions, _job_id),
        Span("timeout", JOB_TIMEOUT),
        Nested("remove_on_complete"),
        Nested("remove_on_fail"),
        Stamp("deadline"),
        Text("group_key", max_chars=MAX_GROUP_KEY_CHARS),
        Across("group_key", envelope_pb2.JobOptions, _group_key),
        Across("supersede_waiting", envelope_pb2.JobOptions, _supersede_needs_group),
    ),
    envelope_pb2.Backoff: (
        Choice("type"),
        Span("delay", NON_NEGATIVE),
        Span("max_delay", NON_NEGATIVE),
        Across("max_delay", envelope_pb2.Backoff, _max_delay_not_below_delay),
        Number("jitter", FRACTION),
    ),
    envelope_pb2.Retention: (
        Free("remove"),
        Nested("keep"),
    ),
    envelope_pb2.TraceContext: (
        Text("traceparent", max_chars=MAX_TRACE_CHARS),
        Text("tracestate", max_chars=MAX_TRACE_CHARS),
    ),
    envelope_pb2.KeepJobs: (
        Number("count", KEEP_COUNT),
        Span("age", NON_NEGATIVE),
    ),
})
