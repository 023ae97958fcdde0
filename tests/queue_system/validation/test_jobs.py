"""Submission-time validation: valid jobs pass, and every bad field of a bad job is named exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Struct, Value
from google.protobuf.timestamp_pb2 import Timestamp

from jobmesh.jobs.v1 import common_pb2, envelope_pb2, financial_jobs_pb2, probe_pb2, trading_jobs_pb2
from queue_system import catalog
from queue_system.decimals import DecimalFormatError, amount_of, parse_decimal
from queue_system.envelope import JobRequest
from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.validation.job_rules import JOB_RULES
from queue_system.validation.jobs import validate_batch, validate_job
from queue_system.validation.rules import check

JobPayload = envelope_pb2.JobPayload
JobOptions = envelope_pb2.JobOptions
Mutation = Callable[[Message], None]

SE = "payload.strategy_execution"
AD = "payload.arbitrage_detection"
PM = "payload.position_monitoring"
RA = "payload.risk_analysis"
TS = "payload.transaction_sync"
AR = "payload.account_reconciliation"
RG = "payload.report_generation"
CA = "payload.categorization"
PR = "payload.probe"

JAN_1 = 1_704_067_200  # 2024-01-01T00:00:00Z
JAN_31 = JAN_1 + 30 * 86_400
MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z


def amount(x: str | float) -> Value:
    """An amount as a producer sends it: a decimal string, or a JSON number."""
    return Value(string_value=x) if isinstance(x, str) else Value(number_value=x)


def _struct(**values: Any) -> Struct:
    s = Struct()
    s.update(values)
    return s


def _january() -> common_pb2.DateRange:
    return common_pb2.DateRange(start=Timestamp(seconds=JAN_1), end=Timestamp(seconds=JAN_31))


# --- one fully populated, valid job per queue ---------------------------------------------------


def _strategy_execution() -> JobPayload:
    return JobPayload(
        strategy_execution=trading_jobs_pb2.StrategyExecutionJob(
            id="exec_1640995200000",
            timestamp=Timestamp(seconds=1_640_995_200),
            strategy_name="momentum",
            exchange="binance",
            symbol="BTC/USD",
            parameters=_struct(lookback=20, assets=["BTC", "ETH"]),
            risk_limits=trading_jobs_pb2.RiskLimits(
                max_position_size=amount("10000.50"), max_loss=amount(500), max_leverage=amount("3")
            ),
            strategy_id="strat-42",
        )
    )


def _arbitrage_detection() -> JobPayload:
    return JobPayload(
        arbitrage_detection=trading_jobs_pb2.ArbitrageDetectionJob(
            id="arb_1",
            timestamp=Timestamp(seconds=JAN_1),
            exchange_pair=["binance", "kraken"],
            symbol="ETH/USD",
            min_profit_percentage=0.5,
            max_volume=amount("25.5"),
        )
    )


def _position_monitoring() -> JobPayload:
    return JobPayload(
        position_monitoring=trading_jobs_pb2.PositionMonitoringJob(
            id="mon_1",
            position_id="pos-1",
            exchange="binance",
            symbol="BTC/USD",
            monitoring_type=trading_jobs_pb2.MONITORING_TYPE_STOP_LOSS,
            thresholds={"stop_price": amount("41000.00"), "trail_ratio": amount(-0.02)},
        )
    )


def _risk_analysis() -> JobPayload:
    return JobPayload(
        risk_analysis=trading_jobs_pb2.RiskAnalysisJob(
            analysis_type=trading_jobs_pb2.ANALYSIS_TYPE_VAR,
            scope=trading_jobs_pb2.RiskScope(
                positions=["pos-1", "pos-2"], timeframe="7d", portfolio_id="pf-1"
            ),
            parameters=_struct(confidence=0.99),
        )
    )


def _transaction_sync() -> JobPayload:
    return JobPayload(
        transaction_sync=financial_jobs_pb2.TransactionSyncJob(
            account_id="acc-1",
            provider=financial_jobs_pb2.SYNC_PROVIDER_GOCARDLESS,
            sync_type=financial_jobs_pb2.SYNC_TYPE_SPECIFIC,
            date_range=_january(),
        )
    )


def _account_reconciliation() -> JobPayload:
    return JobPayload(
        account_reconciliation=financial_jobs_pb2.AccountReconciliationJob(
            account_id="acc-1",
            reconciliation_type=financial_jobs_pb2.RECONCILIATION_TYPE_DAILY,
            target_balance=amount("-120.75"),
            discrepancy_threshold=amount(0),
        )
    )


def _report_generation() -> JobPayload:
    return JobPayload(
        report_generation=financial_jobs_pb2.ReportGenerationJob(
            report_type=financial_jobs_pb2.REPORT_TYPE_MONTHLY_SUMMARY,
            format=financial_jobs_pb2.REPORT_FORMAT_PDF,
            parameters=financial_jobs_pb2.ReportParameters(
                date_range=_january(), filters=_struct(category="food")
            ),
        )
    )


def _categorization() -> JobPayload:
    return JobPayload(
        categorization=financial_jobs_pb2.CategorizationJob(
            transaction_ids=["tx-1", "tx-2"],
            method=financial_jobs_pb2.CATEGORIZATION_METHOD_HYBRID,
            options=financial_jobs_pb2.CategorizationOptions(
                ai_model="small-v2", confidence=0.8, user_categories=["rent", "food"]
            ),
            rules=[
                financial_jobs_pb2.CategoryRule(
                    name="rent",
                    category="rent",
                    conditions=[
                        financial_jobs_pb2.RuleCondition(
                            field=financial_jobs_pb2.RULE_FIELD_PAYEE,
                            operator=financial_jobs_pb2.RULE_OPERATOR_REGEX,
                            value=r"^hausverwaltung\s+\w+",
                        ),
                        financial_jobs_pb2.RuleCondition(
                            field=financial_jobs_pb2.RULE_FIELD_DESCRIPTION,
                            operator=financial_jobs_pb2.RULE_OPERATOR_ONE_OF,
                            values=["miete", "rent"],
                        ),
                    ],
                    max_amount=amount("0"),
                    min_amount=amount("-5000"),
                ),
                financial_jobs_pb2.CategoryRule(category="food", min_amount=amount("-40")),
            ],
        )
    )


def _probe() -> JobPayload:
    return JobPayload(probe=probe_pb2.ProbeJob(seq=7, sent_at=Timestamp(seconds=JAN_1), pad="x" * 4_096))


VALID: dict[str, Callable[[], JobPayload]] = {
    catalog.STRATEGY_EXECUTION: _strategy_execution,
    catalog.ARBITRAGE_DETECTION: _arbitrage_detection,
    catalog.POSITION_MONITORING: _position_monitoring,
    catalog.RISK_ANALYSIS: _risk_analysis,
    catalog.TRANSACTION_SYNC: _transaction_sync,
    catalog.ACCOUNT_RECONCILIATION: _account_reconciliation,
    catalog.REPORT_GENERATION: _report_generation,
    catalog.CATEGORIZATION: _categorization,
}

# The same jobs with only what the contract requires.
MINIMAL: dict[str, JobPayload] = {
    catalog.STRATEGY_EXECUTION: JobPayload(
        strategy_execution=trading_jobs_pb2.StrategyExecutionJob(
            strategy_name="m",
            exchange="e",
            symbol="s",
            risk_limits=trading_jobs_pb2.RiskLimits(max_position_size=amount(1), max_loss=amount("0.01")),
        )
    ),
    catalog.ARBITRAGE_DETECTION: JobPayload(
        arbitrage_detection=trading_jobs_pb2.ArbitrageDetectionJob(
            exchange_pair=["a", "b"], symbol="s", min_profit_percentage=100.0
        )
    ),
    catalog.POSITION_MONITORING: JobPayload(
        position_monitoring=trading_jobs_pb2.PositionMonitoringJob(
            position_id="p",
            exchange="e",
            symbol="s",
            monitoring_type=trading_jobs_pb2.MONITORING_TYPE_RISK_CHECK,
        )
    ),
    catalog.RISK_ANALYSIS: JobPayload(
        risk_analysis=trading_jobs_pb2.RiskAnalysisJob(
            analysis_type=trading_jobs_pb2.ANALYSIS_TYPE_MARKET,
            scope=trading_jobs_pb2.RiskScope(timeframe="1d"),
        )
    ),
    catalog.TRANSACTION_SYNC: JobPayload(
        transaction_sync=financial_jobs_pb2.TransactionSyncJob(
            account_id="a",
            provider=financial_jobs_pb2.SYNC_PROVIDER_API,
            sync_type=financial_jobs_pb2.SYNC_TYPE_FULL,
        )
    ),
    catalog.ACCOUNT_RECONCILIATION: JobPayload(
        account_reconciliation=financial_jobs_pb2.AccountReconciliationJob(
            account_id="a",
            reconciliation_type=financial_jobs_pb2.RECONCILIATION_TYPE_MANUAL,
            discrepancy_threshold=amount("0.00"),
        )
    ),
    catalog.REPORT_GENERATION: JobPayload(
        report_generation=financial_jobs_pb2.ReportGenerationJob(
            report_type=financial_jobs_pb2.REPORT_TYPE_CASH_FLOW,
            format=financial_jobs_pb2.REPORT_FORMAT_CSV,
            parameters=financial_jobs_pb2.ReportParameters(date_range=_january()),
        )
    ),
    catalog.CATEGORIZATION: JobPayload(
        categorization=financial_jobs_pb2.CategorizationJob(
            transaction_ids=["t"], method=financial_jobs_pb2.CATEGORIZATION_METHOD_RULES
        )
    ),
}


def _fields(violations: list[FieldViolation]) -> list[str]:
    return [v.field for v in violations]


def _validate(queue: str, payload: JobPayload, options: JobOptions | None = None) -> list[FieldViolation]:
    return validate_job(queue, payload, options or JobOptions())


# --- valid jobs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("queue", catalog.ALL_QUEUES)
def test_a_valid_job_of_each_queue_has_no_violation(queue: str) -> None:
    assert _validate(queue, VALID[queue]()) == []


@pytest.mark.parametrize("queue", catalog.ALL_QUEUES)
def test_a_job_with_only_its_required_fields_has_no_violation(queue: str) -> None:
    assert _validate(queue, MINIMAL[queue]) == []


@pytest.mark.parametrize("queue", catalog.ALL_QUEUES)
def test_a_probe_fits_every_queue(queue: str) -> None:
    assert _validate(queue, _probe()) == []
    assert _validate(queue, JobPayload(probe=probe_pb2.ProbeJob())) == []


def test_every_option_set_within_bounds_has_no_violation() -> None:
    keep = envelope_pb2.Retention(keep=envelope_pb2.KeepJobs(count=1_000_000, age=Duration(seconds=0)))
    options = JobOptions(
        priority=envelope_pb2.JOB_PRIORITY_CRITICAL,
        delay=timedelta(days=365),
        attempts=100,
        backoff=envelope_pb2.Backoff(
            type=envelope_pb2.BACKOFF_TYPE_EXPONENTIAL,
            delay=Duration(seconds=1),
            max_delay=Duration(seconds=1),
            jitter=1.0,
        ),
        job_id="order-2024-01-01_#42/é" + "x" * 234,
        timeout=timedelta(hours=24),
        remove_on_complete=envelope_pb2.Retention(remove=True),
        remove_on_fail=keep,
        deadline=Timestamp(seconds=0),  # long past: the worker, not submission, enforces deadlines
    )
    assert len(options.job_id) == 256
    assert _validate(catalog.STRATEGY_EXECUTION, _strategy_execution(), options) == []


# --- bad payloads -------------------------------------------------------------------------------


def _parent(job: Message, path: str) -> tuple[Any, str]:
    """The message holding the field at dotted `path` of `job`, and the field's name."""
    *parents, name = path.split(".")
    target: Any = job
    for parent in parents:
        target = getattr(target, parent)
    return target, name


def put(path: str, value: Any) -> Mutation:
    """A mutation of the job message: set `path` (dotted) to `value`; None clears it."""

    def mutate(job: Message) -> None:
        target, name = _parent(job, path)
        if value is None:
            target.ClearField(name)
        elif isinstance(value, list):
            del getattr(target, name)[:]
            getattr(target, name).extend(value)
        elif isinstance(value, dict):
            getattr(target, name).clear()
            if isinstance(getattr(target, name), Struct):
                getattr(target, name).update(value)
            else:  # a map of amounts
                for key, item in value.items():
                    getattr(target, name)[key].CopyFrom(amount(item))
        elif isinstance(value, Message):
            getattr(target, name).CopyFrom(value)
        elif isinstance(getattr(target, name), Value):
            getattr(target, name).CopyFrom(amount(value))
        else:
            setattr(target, name, value)

    return mutate


def big_struct(path: str) -> Mutation:
    """A mutation that grows the Struct at `path` past 64 KiB."""

    def mutate(job: Message) -> None:
        target, name = _parent(job, path)
        getattr(target, name).update({"blob": "x" * 70_000})

    return mutate


def deep_struct(path: str, levels: int = 33) -> Mutation:
    """A mutation that nests Structs `levels` deep at `path` (a Struct inside a Struct ...)."""

    def mutate(job: Message) -> None:
        target, name = _parent(job, path)
        inner: dict[str, Any] = {"leaf": 1}
        for _ in range(levels - 1):
            inner = {"next": inner}
        getattr(target, name).update(inner)

    return mutate


def case(queue: str, mutation: Mutation, *more: Mutation | str, id: str) -> Any:
    """A bad-job case: `mutation` (and any further mutations before the fields), then the fields
    named in the violations."""
    mutations = [mutation, *(m for m in more if not isinstance(m, str))]
    fields = [f for f in more if isinstance(f, str)]

    def mutate(job: Message) -> None:
        for each in mutations:
            each(job)

    return pytest.param(queue, mutate, fields, id=id)


def _condition(**fields: Any) -> Mutation:
    """A categorization job whose one rule has one condition: payee IS "x" but for `fields`."""
    spec: dict[str, Any] = {
        "field": financial_jobs_pb2.RULE_FIELD_PAYEE,
        "operator": financial_jobs_pb2.RULE_OPERATOR_IS,
        "value": "x",
    }
    spec.update(fields)
    if "values" in fields or spec["operator"] == financial_jobs_pb2.RULE_OPERATOR_ONE_OF:
        spec.pop("value")
    rule = financial_jobs_pb2.CategoryRule(
        category="c", conditions=[financial_jobs_pb2.RuleCondition(**spec)]
    )
    return put("rules", [rule])


S, A, P, R = (
    catalog.STRATEGY_EXECUTION,
    catalog.ARBITRAGE_DETECTION,
    catalog.POSITION_MONITORING,
    catalog.RISK_ANALYSIS,
)
T, C, G, K = (
    catalog.TRANSACTION_SYNC,
    catalog.ACCOUNT_RECONCILIATION,
    catalog.REPORT_GENERATION,
    catalog.CATEGORIZATION,
)
LONG = "x" * 1_025
TOO_MANY = [f"id-{i}" for i in range(10_001)]

BAD_PAYLOADS = [
    # strategy-execution
    case(S, put("strategy_name", ""), f"{SE}.strategy_name", id="strategy_name empty"),
    case(S, put("exchange", "  \t"), f"{SE}.exchange", id="exchange blank"),
    case(S, put("symbol", LONG), f"{SE}.symbol", id="symbol too long"),
    case(S, put("id", LONG), f"{SE}.id", id="id too long"),
    case(S, put("strategy_id", LONG), f"{SE}.strategy_id", id="strategy_id too long"),
    case(S, put("risk_limits", None), f"{SE}.risk_limits", id="risk_limits missing"),
    case(
        S,
        put("risk_limits", trading_jobs_pb2.RiskLimits()),
        f"{SE}.risk_limits.max_position_size",
        f"{SE}.risk_limits.max_loss",
        id="risk_limits empty",
    ),
    case(S, put("risk_limits.max_position_size", "0"), f"{SE}.risk_limits.max_position_size", id="size 0"),
    case(S, put("risk_limits.max_loss", "-5"), f"{SE}.risk_limits.max_loss", id="max_loss negative"),
    case(S, put("risk_limits.max_leverage", "0.99"), f"{SE}.risk_limits.max_leverage", id="leverage < 1"),
    case(S, put("risk_limits.max_leverage", ""), f"{SE}.risk_limits.max_leverage", id="leverage set empty"),
    case(S, big_struct("parameters"), f"{SE}.parameters", id="parameters over 64 KiB"),
    case(S, deep_struct("parameters"), f"{SE}.parameters", id="parameters nested 33 deep"),
    case(S, put("timestamp.seconds", MIN_SECONDS - 1), f"{SE}.timestamp", id="timestamp before year 1"),
    case(S, put("timestamp.seconds", MAX_SECONDS + 1), f"{SE}.timestamp", id="timestamp after 9999"),
    case(S, put("timestamp.nanos", -1), f"{SE}.timestamp", id="timestamp nanos negative"),
    case(S, put("timestamp.nanos", 1_000_000_000), f"{SE}.timestamp", id="timestamp nanos 1e9"),
    # arbitrage-detection
    case(A, put("exchange_pair", []), f"{AD}.exchange_pair", id="exchange_pair empty"),
    case(A, put("exchange_pair", ["binance"]), f"{AD}.exchange_pair", id="exchange_pair one"),
    case(
        A,
        put("exchange_pair", ["binance", "binance"]),
        f"{AD}.exchange_pair[1]",
        f"{AD}.exchange_pair",
        id="exchange_pair same twice",
    ),
    case(
        A,
        put("exchange_pair", ["binance", "kraken", "binance"]),
        f"{AD}.exchange_pair[2]",
        id="exchange_pair duplicate",
    ),
    case(
        A,
        put("exchange_pair", ["binance", ""]),
        f"{AD}.exchange_pair[1]",
        f"{AD}.exchange_pair",
        id="exchange_pair empty entry",
    ),
    case(A, put("exchange_pair", ["a", LONG]), f"{AD}.exchange_pair[1]", id="exchange_pair entry too long"),
    case(A, put("exchange_pair", TOO_MANY), f"{AD}.exchange_pair", id="exchange_pair over 10000"),
    case(A, put("symbol", ""), f"{AD}.symbol", id="arbitrage symbol empty"),
    case(A, put("min_profit_percentage", 0.0), f"{AD}.min_profit_percentage", id="profit 0"),
    case(A, put("min_profit_percentage", -1.0), f"{AD}.min_profit_percentage", id="profit negative"),
    case(A, put("min_profit_percentage", 100.5), f"{AD}.min_profit_percentage", id="profit over 100"),
    case(A, put("min_profit_percentage", float("nan")), f"{AD}.min_profit_percentage", id="profit NaN"),
    case(A, put("min_profit_percentage", float("inf")), f"{AD}.min_profit_percentage", id="profit inf"),
    case(A, put("max_volume", "0"), f"{AD}.max_volume", id="max_volume 0"),
    # position-monitoring
    case(P, put("position_id", ""), f"{PM}.position_id", id="position_id empty"),
    case(P, put("exchange", ""), f"{PM}.exchange", id="monitoring exchange empty"),
    case(P, put("symbol", ""), f"{PM}.symbol", id="monitoring symbol empty"),
    case(P, put("monitoring_type", 0), f"{PM}.monitoring_type", id="monitoring_type unspecified"),
    case(P, put("monitoring_type", 99), f"{PM}.monitoring_type", id="monitoring_type unknown"),
    case(P, put("thresholds", {"stop": "abc"}), f'{PM}.thresholds["stop"]', id="threshold not decimal"),
    case(P, put("thresholds", {"stop": "NaN"}), f'{PM}.thresholds["stop"]', id="threshold NaN"),
    case(P, put("thresholds", {"": "1"}), f"{PM}.thresholds", id="threshold key empty"),
    case(P, put("thresholds", {LONG: "1"}), f"{PM}.thresholds", id="threshold key too long"),
    case(
        P,
        put("thresholds", {f"k{i}": "1" for i in range(101)}),
        f"{PM}.thresholds",
        id="thresholds over 100",
    ),
    # risk-analysis
    case(R, put("analysis_type", 0), f"{RA}.analysis_type", id="analysis_type unspecified"),
    case(R, put("analysis_type", 5), f"{RA}.analysis_type", id="analysis_type unknown"),
    case(R, put("scope", None), f"{RA}.scope", id="scope missing"),
    case(R, put("scope.timeframe", ""), f"{RA}.scope.timeframe", id="timeframe empty"),
    case(R, put("scope.positions", ["p", ""]), f"{RA}.scope.positions[1]", id="positions empty entry"),
    case(R, put("scope.positions", TOO_MANY), f"{RA}.scope.positions", id="positions over 10000"),
    case(R, put("scope.portfolio_id", ""), f"{RA}.scope.portfolio_id", id="portfolio_id set empty"),
    case(R, big_struct("parameters"), f"{RA}.parameters", id="risk parameters over 64 KiB"),
    # transaction-sync
    case(T, put("account_id", ""), f"{TS}.account_id", id="sync account_id empty"),
    case(T, put("provider", 0), f"{TS}.provider", id="provider unspecified"),
    case(T, put("sync_type", 0), f"{TS}.sync_type", id="sync_type unspecified"),
    case(T, put("date_range", None), f"{TS}.date_range", id="specific sync without date_range"),
    case(T, put("date_range.start", None), f"{TS}.date_range.start", id="date_range without start"),
    case(T, put("date_range.end", None), f"{TS}.date_range.end", id="date_range without end"),
    case(T, put("date_range.end.seconds", JAN_1 - 1), f"{TS}.date_range.end", id="date_range reversed"),
    case(
        T,
        put("date_range.start.nanos", -5),
        f"{TS}.date_range.start",
        id="date_range invalid start",
    ),
    # account-reconciliation
    case(C, put("account_id", ""), f"{AR}.account_id", id="reconciliation account_id empty"),
    case(C, put("reconciliation_type", 0), f"{AR}.reconciliation_type", id="reconciliation_type unspec"),
    case(C, put("target_balance", "NaN"), f"{AR}.target_balance", id="target_balance NaN"),
    case(C, put("target_balance", ""), f"{AR}.target_balance", id="target_balance set empty"),
    case(C, put("discrepancy_threshold", ""), f"{AR}.discrepancy_threshold", id="threshold missing"),
    case(C, put("discrepancy_threshold", "-0.01"), f"{AR}.discrepancy_threshold", id="threshold negative"),
    # report-generation
    case(G, put("report_type", 0), f"{RG}.report_type", id="report_type unspecified"),
    case(G, put("format", 0), f"{RG}.format", id="format unspecified"),
    case(G, put("format", 17), f"{RG}.format", id="format unknown"),
    case(G, put("parameters", None), f"{RG}.parameters", id="report parameters missing"),
    case(
        G, put("parameters.date_range", None), f"{RG}.parameters.date_range", id="report date_range missing"
    ),
    case(
        G,
        put("parameters.date_range.end.seconds", JAN_1 - 86_400),
        f"{RG}.parameters.date_range.end",
        id="report date_range reversed",
    ),
    case(G, big_struct("parameters.filters"), f"{RG}.parameters.filters", id="filters over 64 KiB"),
    # categorization
    case(K, put("rules", []), id="no rules with method hybrid: fine"),
    case(K, put("transaction_ids", []), id="no transaction_ids: the uncategorized ones"),
    case(K, put("rules", [financial_jobs_pb2.CategoryRule()] * 1_001), f"{CA}.rules", id="rules over 1000"),
    case(
        K,
        put("rules", [financial_jobs_pb2.CategoryRule(category="x")]),
        f"{CA}.rules[0].conditions",
        id="rule without test",
    ),
    case(
        K,
        put("rules", [financial_jobs_pb2.CategoryRule(min_amount=amount("1"))]),
        f"{CA}.rules[0].category",
        id="rule without category",
    ),
    case(
        K,
        put("rules", [financial_jobs_pb2.CategoryRule(category="x", min_amount=amount("x"))]),
        f"{CA}.rules[0].min_amount",
        id="rule amount bad",
    ),
    case(
        K,
        _condition(operator=financial_jobs_pb2.RULE_OPERATOR_REGEX, value="(unclosed"),
        f"{CA}.rules[0].conditions[0].value",
        id="regex invalid",
    ),
    case(
        K,
        _condition(operator=financial_jobs_pb2.RULE_OPERATOR_IS, value=" "),
        f"{CA}.rules[0].conditions[0].value",
        id="is without value",
    ),
    case(
        K,
        _condition(operator=financial_jobs_pb2.RULE_OPERATOR_ONE_OF),
        f"{CA}.rules[0].conditions[0].values",
        id="one_of without values",
    ),
    case(
        K,
        _condition(operator=financial_jobs_pb2.RULE_OPERATOR_ONE_OF, values=[""]),
        f"{CA}.rules[0].conditions[0].values[0]",
        id="one_of blank value",
    ),
    case(K, _condition(field=0), f"{CA}.rules[0].conditions[0].field", id="condition field unspecified"),
    case(
        K,
        _condition(operator=0),
        f"{CA}.rules[0].conditions[0].operator",
        id="condition operator unspecified",
    ),
    case(K, put("transaction_ids", ["t", " "]), f"{CA}.transaction_ids[1]", id="transaction_id blank"),
    case(K, put("transaction_ids", TOO_MANY), f"{CA}.transaction_ids", id="transaction_ids over 10000"),
    case(K, put("method", 0), f"{CA}.method", id="method unspecified"),
    case(K, put("options.confidence", 1.5), f"{CA}.options.confidence", id="confidence over 1"),
    case(K, put("options.confidence", -0.1), f"{CA}.options.confidence", id="confidence negative"),
    case(K, put("options.confidence", float("nan")), f"{CA}.options.confidence", id="confidence NaN"),
    case(K, put("options.ai_model", ""), f"{CA}.options.ai_model", id="ai_model set empty"),
    case(K, put("options.user_categories", [""]), f"{CA}.options.user_categories[0]", id="category empty"),
]


@pytest.mark.parametrize(("queue", "mutation", "fields"), BAD_PAYLOADS)
def test_a_bad_payload_field_is_named_exactly(queue: str, mutation: Mutation, fields: list[str]) -> None:
    payload = VALID[queue]()
    mutation(getattr(payload, catalog.PAYLOAD_FIELD[queue]))
    assert _fields(_validate(queue, payload)) == fields


PROBE_CASES = [
    pytest.param(put("pad", "x" * 4_097), [f"{PR}.pad"], id="pad over 4 KiB"),
    pytest.param(put("sent_at.seconds", MAX_SECONDS + 1), [f"{PR}.sent_at"], id="sent_at invalid"),
]


@pytest.mark.parametrize(("mutation", "fields"), PROBE_CASES)
def test_a_bad_probe_field_is_named_exactly(mutation: Mutation, fields: list[str]) -> None:
    payload = _probe()
    mutation(payload.probe)
    assert _fields(_validate(catalog.CATEGORIZATION, payload)) == fields


# --- decimals -----------------------------------------------------------------------------------

GOOD_DECIMALS = ["1", "0.5", "+2", "007.10", "9" * 18 + "." + "9" * 18, "1." + "0" * 18]
BAD_DECIMALS = [
    "",
    "abc",
    "NaN",
    "-nan",
    "sNaN",
    "Infinity",
    "-inf",
    "1e3",
    "1E-2",
    "1_000",
    " 1",
    "1 ",
    "1.",
    ".5",
    "1,5",
    "--1",
    "0x10",
    "١٢",  # Arabic-Indic digits: Decimal() takes them, the contract does not
    "1" * 19,
    "0." + "1" * 19,
]


@pytest.mark.parametrize("text", GOOD_DECIMALS)
def test_a_plain_decimal_within_18_digits_either_side_is_accepted(text: str) -> None:
    payload = _strategy_execution()
    payload.strategy_execution.risk_limits.max_loss.CopyFrom(amount(text))
    assert _validate(catalog.STRATEGY_EXECUTION, payload) == []
    assert parse_decimal(text) == Decimal(text)


@pytest.mark.parametrize("text", BAD_DECIMALS)
def test_anything_but_a_plain_finite_decimal_is_rejected(text: str) -> None:
    payload = _strategy_execution()
    payload.strategy_execution.risk_limits.max_loss.CopyFrom(amount(text))
    assert _fields(_validate(catalog.STRATEGY_EXECUTION, payload)) == [f"{SE}.risk_limits.max_loss"]
    if text:
        with pytest.raises(DecimalFormatError):
            parse_decimal(text)


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("-5", "must be greater than 0, got -5"),
        ("NaN", "must be a finite number, got 'NaN'"),
        ("-Infinity", "must be a finite number, got '-Infinity'"),
        ("1" * 19, "has 19 digits before the point, at most 18 allowed"),
        ("0." + "1" * 19, "has 19 digits after the point, at most 18 allowed"),
        (None, "required"),
        (-5.0, "must be greater than 0, got -5.0"),
        (float("nan"), "must be a finite number, got nan"),
        (1e20, "has 21 digits before the point, at most 18 allowed"),
        (Value(bool_value=True), "must be a number or a decimal string, got a boolean"),
        (Value(), "must be a number or a decimal string, got nothing"),
    ],
)
def test_a_bad_decimal_is_described_for_humans(text: str | float | Value | None, description: str) -> None:
    payload = _strategy_execution()
    if text is None:
        payload.strategy_execution.risk_limits.ClearField("max_loss")
    else:
        payload.strategy_execution.risk_limits.max_loss.CopyFrom(
            text if isinstance(text, Value) else amount(text)
        )
    assert _validate(catalog.STRATEGY_EXECUTION, payload) == [
        FieldViolation(f"{SE}.risk_limits.max_loss", description)
    ]


@pytest.mark.parametrize(
    ("number", "exact"),
    [
        (1000, "1000"),
        (0.1, "0.1"),
        (150.25, "150.25"),
        (1e-05, "0.00001"),
        (0.30000000000000004, "0.30000000000000004"),
    ],
)
def test_a_json_number_is_read_as_the_decimal_it_prints_as(number: float, exact: str) -> None:
    assert amount_of(Value(number_value=number)) == Decimal(exact)
    assert amount_of(Value(number_value=0.1)) != Decimal(0.1)  # noqa: RUF032 (the float's binary expansion)


def test_the_seed_s_risk_limits_json_is_taken_as_written() -> None:
    limits = json_format.Parse('{"maxPositionSize": 1000, "maxLoss": 100}', trading_jobs_pb2.RiskLimits())
    assert (amount_of(limits.max_position_size), amount_of(limits.max_loss)) == (Decimal(1000), Decimal(100))
    exact = json_format.Parse('{"maxPositionSize": "1000.000000000000000001", "maxLoss": "0.1"}', limits)
    assert amount_of(exact.max_position_size) == Decimal("1000.000000000000000001")


# --- queue and payload kind ---------------------------------------------------------------------


def test_an_empty_queue_is_required() -> None:
    assert _validate("", _probe()) == [FieldViolation("queue", "required")]


def test_an_unknown_queue_lists_the_valid_names() -> None:
    [violation] = _validate("strategy_execution", _strategy_execution())
    assert violation.field == "queue"
    assert "'strategy_execution'" in violation.description
    assert all(name in violation.description for name in catalog.ALL_QUEUES)


def test_a_missing_payload_is_required_naming_the_kinds_the_queue_takes() -> None:
    assert _validate(catalog.RISK_ANALYSIS, JobPayload()) == [
        FieldViolation("payload", "required, one of risk_analysis, probe")
    ]


def test_a_payload_of_another_queue_is_rejected() -> None:
    assert _validate(catalog.STRATEGY_EXECUTION, _categorization()) == [
        FieldViolation("payload", "queue strategy-execution takes strategy_execution, got categorization")
    ]


def test_a_payload_over_256_kib_is_rejected_even_if_each_field_is_within_bounds() -> None:
    payload = _categorization()
    payload.categorization.transaction_ids[:] = [f"transaction-{i:015d}" for i in range(10_000)]
    [violation] = _validate(catalog.CATEGORIZATION, payload)
    assert violation.field == "payload"
    assert "at most 262144 allowed" in violation.description


def test_every_bad_field_is_named_not_only_the_first() -> None:
    payload = JobPayload(
        strategy_execution=trading_jobs_pb2.StrategyExecutionJob(
            symbol="BTC/USD",
            risk_limits=trading_jobs_pb2.RiskLimits(max_position_size=amount("-1"), max_loss=amount("1")),
        )
    )
    options = JobOptions(attempts=1_000, job_id="a:b")
    assert _fields(validate_job("nope", payload, options)) == [
        "queue",
        f"{SE}.strategy_name",
        f"{SE}.exchange",
        f"{SE}.risk_limits.max_position_size",
        "options.attempts",
        "options.job_id",
    ]


def test_field_prefix_goes_before_every_path() -> None:
    violations = validate_job("", JobPayload(), JobOptions(attempts=101), field_prefix="jobs[3].")
    assert _fields(violations) == ["jobs[3].queue", "jobs[3].payload", "jobs[3].options.attempts"]


# --- options ------------------------------------------------------------------------------------


def _seconds(seconds: int, nanos: int = 0) -> Duration:
    return Duration(seconds=seconds, nanos=nanos)


def _backoff(**fields: Any) -> envelope_pb2.Backoff:
    return envelope_pb2.Backoff(**fields)


def _keep(**fields: Any) -> envelope_pb2.Retention:
    return envelope_pb2.Retention(keep=envelope_pb2.KeepJobs(**fields))


DAY = 86_400
UNKNOWN_PRIORITY: Any = 9  # typed Any: the stubs rightly refuse a bare int
BAD_OPTIONS = [
    pytest.param(JobOptions(priority=UNKNOWN_PRIORITY), ["options.priority"], id="priority unknown"),
    pytest.param(JobOptions(delay=_seconds(-1)), ["options.delay"], id="delay negative"),
    pytest.param(JobOptions(delay=_seconds(0, -1)), ["options.delay"], id="delay -1ns"),
    pytest.param(JobOptions(delay=_seconds(365 * DAY, 1)), ["options.delay"], id="delay over 365 days"),
    pytest.param(JobOptions(delay=_seconds(1, -1)), ["options.delay"], id="delay signs differ"),
    pytest.param(JobOptions(delay=_seconds(1, 10**9)), ["options.delay"], id="delay nanos 1e9"),
    pytest.param(JobOptions(delay=_seconds(315_576_000_001)), ["options.delay"], id="delay out of range"),
    pytest.param(JobOptions(attempts=101), ["options.attempts"], id="attempts over 100"),
    pytest.param(JobOptions(backoff=_backoff(type=3)), ["options.backoff.type"], id="backoff type unknown"),
    pytest.param(
        JobOptions(backoff=_backoff(delay=_seconds(-1))),
        ["options.backoff.delay"],
        id="backoff delay negative",
    ),
    pytest.param(
        JobOptions(backoff=_backoff(max_delay=_seconds(-1))),
        ["options.backoff.max_delay"],
        id="backoff max_delay negative",
    ),
    pytest.param(
        JobOptions(backoff=_backoff(delay=_seconds(10), max_delay=_seconds(9, 999_999_999))),
        ["options.backoff.max_delay"],
        id="max_delay below delay",
    ),
    pytest.param(JobOptions(backoff=_backoff(jitter=1.01)), ["options.backoff.jitter"], id="jitter over 1"),
    pytest.param(JobOptions(backoff=_backoff(jitter=-0.1)), ["options.backoff.jitter"], id="jitter negative"),
    pytest.param(
        JobOptions(backoff=_backoff(jitter=float("nan"))), ["options.backoff.jitter"], id="jitter NaN"
    ),
    pytest.param(JobOptions(timeout=_seconds(-1)), ["options.timeout"], id="timeout negative"),
    pytest.param(JobOptions(timeout=_seconds(DAY, 1)), ["options.timeout"], id="timeout over 24 h"),
    pytest.param(JobOptions(job_id="x" * 257), ["options.job_id"], id="job_id too long"),
    pytest.param(JobOptions(job_id="orders:1"), ["options.job_id"], id="job_id colon"),
    pytest.param(JobOptions(job_id="order 1"), ["options.job_id"], id="job_id space"),
    pytest.param(JobOptions(job_id="order\t1"), ["options.job_id"], id="job_id tab"),
    pytest.param(JobOptions(job_id="order\u00a01"), ["options.job_id"], id="job_id no-break space"),
    pytest.param(JobOptions(job_id="order\x001"), ["options.job_id"], id="job_id NUL"),
    pytest.param(JobOptions(job_id="order\u200b1"), ["options.job_id"], id="job_id zero-width space"),
    pytest.param(
        JobOptions(job_id="a:b c" + "x" * 256), ["options.job_id"] * 3, id="job_id long, colon and space"
    ),
    pytest.param(
        JobOptions(remove_on_complete=_keep(count=1_000_001)),
        ["options.remove_on_complete.keep.count"],
        id="keep count over 1e6",
    ),
    pytest.param(
        JobOptions(remove_on_fail=_keep(age=_seconds(-1))),
        ["options.remove_on_fail.keep.age"],
        id="keep age negative",
    ),
    pytest.param(
        JobOptions(deadline=Timestamp(seconds=MAX_SECONDS + 1)),
        ["options.deadline"],
        id="deadline after 9999",
    ),
    pytest.param(
        JobOptions(deadline=Timestamp(seconds=0, nanos=-1)), ["options.deadline"], id="deadline nanos"
    ),
]


@pytest.mark.parametrize(("options", "fields"), BAD_OPTIONS)
def test_a_bad_option_is_named_exactly(options: JobOptions, fields: list[str]) -> None:
    assert _fields(_validate(catalog.TRANSACTION_SYNC, _transaction_sync(), options)) == fields


@pytest.mark.parametrize(
    ("options", "description"),
    [
        (JobOptions(delay=_seconds(-5)), "must not be negative, got -5s"),
        (JobOptions(delay=_seconds(365 * DAY + 1)), "must be at most 365 days, got 31536001s"),
        (JobOptions(timeout=_seconds(DAY, 500_000_000)), "must be at most 24 hours, got 86400.5s"),
        (JobOptions(attempts=101), "must be at most 100, got 101"),
        (JobOptions(backoff=_backoff(jitter=1.5)), "must be at most 1, got 1.5"),
        (JobOptions(job_id="a:b"), "must not contain ':' (it separates the parts of Redis key names)"),
    ],
)
def test_a_bad_option_is_described_for_humans(options: JobOptions, description: str) -> None:
    [violation] = _validate(catalog.TRANSACTION_SYNC, _transaction_sync(), options)
    assert violation.description == description


# --- batches and check --------------------------------------------------------------------------


def _spec(queue: str, payload: JobPayload, options: JobOptions | None = None) -> JobRequest:
    return JobRequest(queue, payload, options)


def test_a_batch_of_valid_jobs_has_no_violation() -> None:
    specs = [_spec(queue, build()) for queue, build in VALID.items()] + [
        _spec(catalog.REPORT_GENERATION, _probe())
    ]
    assert validate_batch(specs) == []


def test_a_batch_names_each_bad_job_by_its_index() -> None:
    specs = [
        _spec(catalog.CATEGORIZATION, _categorization()),
        _spec("nope", _probe()),
        _spec(catalog.CATEGORIZATION, _strategy_execution(), JobOptions(attempts=500)),
    ]
    assert _fields(validate_batch(specs)) == [
        "jobs[1].queue",
        "jobs[2].payload",
        "jobs[2].options.attempts",
    ]


@pytest.mark.parametrize("count", [0, 10_001])
def test_a_batch_must_hold_1_to_10000_jobs(count: int) -> None:
    specs = [_spec(catalog.RISK_ANALYSIS, JobPayload())] * count
    assert _fields(validate_batch(specs)) == ["jobs"]


def test_a_batch_of_10000_jobs_is_allowed() -> None:
    assert validate_batch([_spec(catalog.RISK_ANALYSIS, _probe())] * 10_000) == []


def test_check_raises_naming_every_violation() -> None:
    violations = validate_job("", JobPayload(), JobOptions())
    with pytest.raises(InvalidArgumentError) as caught:
        check(violations)
    assert caught.value.violations == violations
    assert caught.value.reason == "INVALID_ARGUMENT"


def test_check_passes_without_violations() -> None:
    check([])


# --- the rule table itself ----------------------------------------------------------------------


@pytest.mark.parametrize("message", list(JOB_RULES.rules), ids=lambda m: m.DESCRIPTOR.name)
def test_every_field_of_every_job_message_has_a_rule(message: type[Message]) -> None:
    assert {rule.field for rule in JOB_RULES.rules[message]} == {f.name for f in message.DESCRIPTOR.fields}


def test_every_message_a_job_is_made_of_has_rules() -> None:
    well_known = {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.Struct",
        "google.protobuf.Value",
    }
    by_name = {m.DESCRIPTOR.full_name for m in JOB_RULES.rules}
    roots = [*JobPayload.DESCRIPTOR.fields, *[f for m in JOB_RULES.rules for f in m.DESCRIPTOR.fields]]
    used = {f.message_type.full_name for f in roots if f.message_type is not None} - well_known
    assert used - {"jobmesh.jobs.v1.PositionMonitoringJob.ThresholdsEntry"} <= by_name
    assert JobOptions.DESCRIPTOR.full_name in by_name
    assert envelope_pb2.TraceContext.DESCRIPTOR.full_name in by_name


def test_validation_does_no_grpc_import() -> None:
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(root / "gen")])}
    code = "import sys, queue_system.validation.jobs; sys.exit('grpc' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 0


def test_default_options_are_valid_so_their_check_may_be_skipped() -> None:
    """validate_job skips walking options that are all defaults; this holds that shortcut true."""
    assert list(JOB_RULES.check_message(envelope_pb2.JobOptions(), "options")) == []
