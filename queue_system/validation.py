"""Validation of jobs at submission: a bad job is rejected whole, before anything is enqueued.

Jobs carry orders and money, and a worker that finds a bad field mid-run can
only fail the job after the producer has moved on. So EnqueueJob and
EnqueueJobs check every field first and answer INVALID_ARGUMENT naming every
bad one (a `google.rpc.BadRequest`), never just the first: the caller fixes
its request in one round trip. Paths use the request's field names
("payload.strategy_execution.risk_limits.max_loss", "jobs[3].options.delay").

The rules live in one table, `RULES`: for every message a job is made of, one
rule per field (the required fields, ranges and enums the .proto comments
document, plus bounds on sizes so an absurd job cannot fill Redis). A test
checks that every field of every message has a rule, so a field added to the
contract cannot go unchecked.

Pure: no I/O and no grpc; `service_kit.rich_errors` turns the
InvalidArgumentError that `check` raises into the gRPC status.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from itertools import chain
from typing import Final, Generic, Protocol, TypeVar

from google.protobuf.descriptor import Descriptor, EnumDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from jobmesh.jobs.v1 import common_pb2, envelope_pb2, financial_jobs_pb2, probe_pb2, trading_jobs_pb2
from queue_system import catalog
from queue_system.decimals import DecimalFormatError, parse_decimal, quoted
from queue_system.errors import FieldViolation, InvalidArgumentError

MAX_STRING_CHARS: Final = 1_024
MAX_PROBE_PAD_CHARS: Final = 4_096
MAX_REPEATED: Final = 10_000
MAX_MAP_ENTRIES: Final = 100
MAX_STRUCT_BYTES: Final = 64 * 1_024
MAX_PAYLOAD_BYTES: Final = 256 * 1_024
MAX_BATCH_JOBS: Final = 10_000
MAX_JOB_ID_CHARS: Final = 256

_HOUR: Final = 3_600
_DAY: Final = 24 * _HOUR
# Range of google.protobuf.Timestamp: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
_MIN_TIMESTAMP_SECONDS: Final = -62_135_596_800
_MAX_TIMESTAMP_SECONDS: Final = 253_402_300_799
# Range of google.protobuf.Duration: about +-10,000 years.
_MAX_DURATION_SECONDS: Final = 315_576_000_000
_MAX_NANOS: Final = 999_999_999

M = TypeVar("M", bound=Message)
Violations = Iterator[FieldViolation]


# --- ranges ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Range:
    """Allowed values of a number: from `low` (exclusive when `low_open`) up to `high` inclusive."""

    low: Decimal | None = None
    high: Decimal | None = None
    low_open: bool = False
    # How to say `high` in a message, when its bare number says too little ("365 days").
    high_text: str | None = None

    def problem(self, value: Decimal) -> str | None:
        """The bound `value` breaks, in words ("must be greater than 0"), or None."""
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            if self.low_open:
                return f"must be greater than {self.low}"
            return "must not be negative" if self.low == 0 else f"must be at least {self.low}"
        if self.high is not None and value > self.high:
            return f"must be at most {self.high_text or self.high}"
        return None


def _up_to(high: int, high_text: str | None = None, *, low: int | None = 0) -> Range:
    return Range(None if low is None else Decimal(low), Decimal(high), high_text=high_text)


POSITIVE: Final = Range(low=Decimal(0), low_open=True)
NON_NEGATIVE: Final = Range(low=Decimal(0))
AT_LEAST_ONE: Final = Range(low=Decimal(1))
PERCENTAGE: Final = Range(low=Decimal(0), high=Decimal(100), low_open=True)
FRACTION: Final = _up_to(1)
ATTEMPTS: Final = _up_to(100)
KEEP_COUNT: Final = _up_to(1_000_000)
JOB_DELAY: Final = _up_to(365 * _DAY, "365 days")
JOB_TIMEOUT: Final = _up_to(24 * _HOUR, "24 hours")


# --- small helpers ------------------------------------------------------------------------------


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _tracks_presence(msg: Message, name: str) -> bool:
    """Whether a field knows if it was set (message, `optional`, oneof member)."""
    return _field_presence(msg.DESCRIPTOR, name)


@cache
def _field_presence(descriptor: Descriptor, name: str) -> bool:
    # cached: every job asks the same few questions of the same descriptors
    return bool(descriptor.fields_by_name[name].has_presence)


@cache
def _enum_of(descriptor: Descriptor, name: str) -> EnumDescriptor:
    enum = descriptor.fields_by_name[name].enum_type
    if enum is None:
        raise TypeError(f"{descriptor.full_name}.{name} is not an enum")
    return enum


def _has(msg: Message, name: str) -> bool:
    """Whether a field with presence is set (False for a field without presence)."""
    return _tracks_presence(msg, name) and msg.HasField(name)


def _text_problem(value: str, max_chars: int) -> str | None:
    """What is wrong with a string that must hold something, or None."""
    if value == "":
        return "must not be empty"
    if not value.strip():
        return "must not be blank"
    return _length_problem(value, max_chars)


def _length_problem(value: str, max_chars: int) -> str | None:
    if len(value) > max_chars:
        return f"is {len(value)} characters long, at most {max_chars} allowed"
    return None


def _seconds(value: Decimal) -> str:
    """A duration in seconds as the protobuf JSON form writes it ("1.5s")."""
    text = f"{value:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "s"


def _timestamp_problem(ts: Timestamp) -> str | None:
    if not _MIN_TIMESTAMP_SECONDS <= ts.seconds <= _MAX_TIMESTAMP_SECONDS:
        return (
            "seconds must be within years 0001..9999 "
            f"({_MIN_TIMESTAMP_SECONDS}..{_MAX_TIMESTAMP_SECONDS}), got {ts.seconds}"
        )
    if not 0 <= ts.nanos <= _MAX_NANOS:
        return f"nanos must be between 0 and {_MAX_NANOS}, got {ts.nanos}"
    return None


def _duration_problem(d: Duration) -> str | None:
    if abs(d.seconds) > _MAX_DURATION_SECONDS:
        return f"seconds must be within +-{_MAX_DURATION_SECONDS}, got {d.seconds}"
    if abs(d.nanos) > _MAX_NANOS:
        return f"nanos must be between -{_MAX_NANOS} and {_MAX_NANOS}, got {d.nanos}"
    if (d.seconds > 0 > d.nanos) or (d.seconds < 0 < d.nanos):
        return f"seconds and nanos must have the same sign, got {d.seconds} and {d.nanos}"
    return None


# --- rules: one per field -----------------------------------------------------------------------


class Rule(Protocol):
    """Checks one field of a message; `path` is the message's own path in the request."""

    @property
    def field(self) -> str: ...

    def check(self, msg: Message, path: str) -> Violations: ...


@dataclass(frozen=True, slots=True)
class Text:
    """A string: at most `max_chars`; when required (or `optional` and set), not empty or blank."""

    field: str
    required: bool = False
    max_chars: int = MAX_STRING_CHARS

    def check(self, msg: Message, path: str) -> Violations:
        problem = self._problem(msg, getattr(msg, self.field))
        if problem:
            yield FieldViolation(_at(path, self.field), problem)

    def _problem(self, msg: Message, value: str) -> str | None:
        if not (self.required or _has(msg, self.field)):
            return _length_problem(value, self.max_chars)
        if value == "":
            return "required" if self.required else "must not be empty when set"
        return _text_problem(value, self.max_chars)


@dataclass(frozen=True, slots=True)
class Texts:
    """A repeated string: at most 10,000 entries, each non-blank; `min_count` (distinct) entries."""

    field: str
    min_count: int = 0
    distinct: bool = False

    def check(self, msg: Message, path: str) -> Violations:
        values: Sequence[str] = getattr(msg, self.field)
        where = _at(path, self.field)
        if len(values) > MAX_REPEATED:
            yield FieldViolation(where, f"has {len(values)} entries, at most {MAX_REPEATED} allowed")
            return
        first_seen: dict[str, int] = {}
        for i, value in enumerate(values):
            problem = _text_problem(value, MAX_STRING_CHARS)
            if problem is None and self.distinct and value in first_seen:
                problem = f"repeats {where}[{first_seen[value]}] ({quoted(value)})"
            first_seen.setdefault(value, i)
            if problem:
                yield FieldViolation(f"{where}[{i}]", problem)
        yield from self._count(values, where)

    def _count(self, values: Sequence[str], where: str) -> Violations:
        if self.distinct:
            count, kind = len({v for v in values if v.strip()}), "distinct non-blank entries"
        else:
            count, kind = len(values), "entries" if self.min_count > 1 else "entry"
        if count < self.min_count:
            yield FieldViolation(where, f"needs at least {self.min_count} {kind}, got {count}")


@dataclass(frozen=True, slots=True)
class Choice:
    """An enum: a value the contract knows; when required, not UNSPECIFIED either."""

    field: str
    required: bool = False

    def check(self, msg: Message, path: str) -> Violations:
        value: int = getattr(msg, self.field)
        enum = _enum_of(msg.DESCRIPTOR, self.field)
        known = value in enum.values_by_number
        if known and (value != 0 or not self.required):
            return
        allowed = ", ".join(v.name for v in enum.values if v.number != 0 or not self.required)
        if not known:
            yield FieldViolation(_at(path, self.field), f"unknown value {value}, must be one of {allowed}")
        else:
            yield FieldViolation(_at(path, self.field), f"required, one of {allowed}")


@dataclass(frozen=True, slots=True)
class Number:
    """An int or double (if `optional`, only when set): finite and within `allowed`."""

    field: str
    allowed: Range

    def check(self, msg: Message, path: str) -> Violations:
        if _tracks_presence(msg, self.field) and not msg.HasField(self.field):
            return
        value: int | float = getattr(msg, self.field)
        where = _at(path, self.field)
        if isinstance(value, float) and not math.isfinite(value):
            yield FieldViolation(where, f"must be a finite number, got {value}")
        elif problem := self.allowed.problem(Decimal(value)):
            yield FieldViolation(where, f"{problem}, got {value!r}")


@dataclass(frozen=True, slots=True)
class Amount:
    """A decimal string (see queue_system.decimals) within `allowed` (None: any finite value)."""

    field: str
    required: bool = False
    allowed: Range | None = None

    def check(self, msg: Message, path: str) -> Violations:
        text: str = getattr(msg, self.field)
        where = _at(path, self.field)
        if text == "" and not _has(msg, self.field):
            if self.required:
                yield FieldViolation(where, "required")
            return
        try:
            value = parse_decimal(text)
        except DecimalFormatError as exc:
            yield FieldViolation(where, str(exc))
            return
        problem = self.allowed.problem(value) if self.allowed else None
        if problem:
            yield FieldViolation(where, f"{problem}, got {text}")


@dataclass(frozen=True, slots=True)
class Amounts:
    """A map of name -> decimal string: at most 100 entries, names non-blank, values finite decimals."""

    field: str

    def check(self, msg: Message, path: str) -> Violations:
        entries: Mapping[str, str] = getattr(msg, self.field)
        where = _at(path, self.field)
        if len(entries) > MAX_MAP_ENTRIES:
            yield FieldViolation(where, f"has {len(entries)} entries, at most {MAX_MAP_ENTRIES} allowed")
            return
        for key in sorted(entries):
            problem = _text_problem(key, MAX_STRING_CHARS)
            if problem:
                yield FieldViolation(where, f"key {quoted(key)} {problem}")
                continue
            try:
                parse_decimal(entries[key])
            except DecimalFormatError as exc:
                yield FieldViolation(f"{where}[{json.dumps(key, ensure_ascii=False)}]", str(exc))


@dataclass(frozen=True, slots=True)
class Stamp:
    """A google.protobuf.Timestamp: a valid instant when set."""

    field: str
    required: bool = False

    def check(self, msg: Message, path: str) -> Violations:
        where = _at(path, self.field)
        if not msg.HasField(self.field):
            if self.required:
                yield FieldViolation(where, "required")
            return
        problem = _timestamp_problem(getattr(msg, self.field))
        if problem:
            yield FieldViolation(where, problem)


@dataclass(frozen=True, slots=True)
class Span:
    """A google.protobuf.Duration: valid and within `allowed` (in seconds) when set."""

    field: str
    allowed: Range

    def check(self, msg: Message, path: str) -> Violations:
        if not msg.HasField(self.field):
            return
        duration: Duration = getattr(msg, self.field)
        where = _at(path, self.field)
        problem = _duration_problem(duration)
        if problem:
            yield FieldViolation(where, problem)
            return
        seconds = Decimal(duration.seconds) + Decimal(duration.nanos).scaleb(-9)
        problem = self.allowed.problem(seconds)
        if problem:
            yield FieldViolation(where, f"{problem}, got {_seconds(seconds)}")


@dataclass(frozen=True, slots=True)
class Blob:
    """A google.protobuf.Struct of free-form values: at most 64 KiB serialized."""

    field: str

    def check(self, msg: Message, path: str) -> Violations:
        size = getattr(msg, self.field).ByteSize()
        if size > MAX_STRUCT_BYTES:
            yield FieldViolation(
                _at(path, self.field), f"is {size} bytes serialized, at most {MAX_STRUCT_BYTES} allowed"
            )


@dataclass(frozen=True, slots=True)
class Nested:
    """A sub-message: checked by its own rules in RULES when set."""

    field: str
    required: bool = False

    def check(self, msg: Message, path: str) -> Violations:
        where = _at(path, self.field)
        if not msg.HasField(self.field):
            if self.required:
                yield FieldViolation(where, "required")
            return
        yield from check_message(getattr(msg, self.field), where)


@dataclass(frozen=True, slots=True)
class Free:
    """A field every value of which is fine (a sequence number, a flag)."""

    field: str

    def check(self, msg: Message, path: str) -> Violations:
        return iter(())


@dataclass(frozen=True, slots=True)
class Across(Generic[M]):
    """A rule that needs more than one field of a `kind` message; violations name `field`."""

    field: str
    kind: type[M]
    rule: Callable[[M, str], Violations]

    def check(self, msg: Message, path: str) -> Violations:
        if not isinstance(msg, self.kind):
            raise TypeError(f"rule for {self.kind.__name__}.{self.field} applied to {type(msg).__name__}")
        return self.rule(msg, _at(path, self.field))


# --- rules that span fields ---------------------------------------------------------------------


def _end_not_before_start(dates: common_pb2.DateRange, where: str) -> Violations:
    start, end = dates.start, dates.end
    if not (dates.HasField("start") and dates.HasField("end")):
        return
    if _timestamp_problem(start) or _timestamp_problem(end):
        return
    if (end.seconds, end.nanos) < (start.seconds, start.nanos):
        yield FieldViolation(
            where, f"must not be before start, got {end.ToJsonString()} < {start.ToJsonString()}"
        )


def _specific_sync_needs_dates(job: financial_jobs_pb2.TransactionSyncJob, where: str) -> Violations:
    if job.sync_type == financial_jobs_pb2.SYNC_TYPE_SPECIFIC and not job.HasField("date_range"):
        yield FieldViolation(where, "required when sync_type is SYNC_TYPE_SPECIFIC")


def _max_delay_not_below_delay(backoff: envelope_pb2.Backoff, where: str) -> Violations:
    if not (backoff.HasField("delay") and backoff.HasField("max_delay")):
        return
    if _duration_problem(backoff.delay) or _duration_problem(backoff.max_delay):
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
    problem = _length_problem(job_id, MAX_JOB_ID_CHARS)
    if problem:
        yield FieldViolation(where, problem)
    if ":" in job_id:
        yield FieldViolation(where, "must not contain ':' (it separates the parts of Redis key names)")
    if any(c.isspace() for c in job_id):
        yield FieldViolation(where, "must not contain whitespace")
    elif not job_id.isprintable():
        yield FieldViolation(where, "must contain only printable characters")


# --- the table ----------------------------------------------------------------------------------

_JOB_HEADER: Final[tuple[Rule, ...]] = (Text("id"), Stamp("timestamp"))

# Every message a job is made of -> one rule per field (tests check none is missing).
RULES: Final[Mapping[type[Message], tuple[Rule, ...]]] = {
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
    ),
    trading_jobs_pb2.PositionMonitoringJob: (
        *_JOB_HEADER,
        Text("position_id", required=True),
        Text("exchange", required=True),
        Text("symbol", required=True),
        Choice("monitoring_type", required=True),
        Amounts("thresholds"),
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
    ),
    financial_jobs_pb2.AccountReconciliationJob: (
        *_JOB_HEADER,
        Text("account_id", required=True),
        Choice("reconciliation_type", required=True),
        Amount("target_balance"),
        Amount("discrepancy_threshold", required=True, allowed=NON_NEGATIVE),
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
        Texts("transaction_ids", min_count=1),
        Choice("method", required=True),
        Nested("options"),
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
    envelope_pb2.KeepJobs: (
        Number("count", KEEP_COUNT),
        Span("age", NON_NEGATIVE),
    ),
}

_PAYLOAD_KINDS: Final = tuple(
    f.name for f in envelope_pb2.JobPayload.DESCRIPTOR.oneofs_by_name["kind"].fields
)


def check_message(msg: Message, path: str) -> Violations:
    """Every violation of a message of RULES and of the messages inside it."""
    for rule in RULES[type(msg)]:
        yield from rule.check(msg, path)


# --- jobs and batches ---------------------------------------------------------------------------


def _check_queue(queue: str, where: str) -> Violations:
    if not queue:
        yield FieldViolation(where, "required")
    elif queue not in catalog.ALL_QUEUES:
        yield FieldViolation(
            where, f"unknown queue {quoted(queue)}, must be one of {', '.join(catalog.ALL_QUEUES)}"
        )


def _check_payload(queue: str, payload: envelope_pb2.JobPayload, where: str) -> Violations:
    kind = payload.WhichOneof("kind")
    expected = catalog.PAYLOAD_FIELD.get(queue)
    if kind is None:
        fitting = (expected, catalog.PROBE_FIELD) if expected else _PAYLOAD_KINDS
        yield FieldViolation(where, f"required, one of {', '.join(fitting)}")
        return
    if expected is not None and kind not in (expected, catalog.PROBE_FIELD):
        yield FieldViolation(where, f"queue {queue} takes {expected}, got {kind}")
    size = payload.ByteSize()
    if size > MAX_PAYLOAD_BYTES:
        yield FieldViolation(where, f"is {size} bytes serialized, at most {MAX_PAYLOAD_BYTES} allowed")
    yield from check_message(getattr(payload, kind), _at(where, kind))


def validate_job(
    queue: str,
    payload: envelope_pb2.JobPayload,
    options: envelope_pb2.JobOptions,
    *,
    field_prefix: str = "",
) -> list[FieldViolation]:
    """Every violation of one job; paths start with `field_prefix` (e.g. "jobs[3].")."""
    return list(
        chain(
            _check_queue(queue, f"{field_prefix}queue"),
            _check_payload(queue, payload, f"{field_prefix}payload"),
            # default options are valid by construction (a test holds this): skip their walk
            check_message(options, f"{field_prefix}options") if options.ByteSize() else (),
        )
    )


def validate_enqueue_batch(
    specs: Sequence[tuple[str, envelope_pb2.JobPayload, envelope_pb2.JobOptions]],
) -> list[FieldViolation]:
    """Every violation of a batch (1..10,000 jobs), each job's under `jobs[i].`.

    A batch over the limit is answered with that alone: it must be split anyway,
    and checking (and naming) each of its jobs would be unbounded work.
    """
    if not specs:
        return [FieldViolation("jobs", f"required, 1 to {MAX_BATCH_JOBS} jobs")]
    if len(specs) > MAX_BATCH_JOBS:
        return [FieldViolation("jobs", f"has {len(specs)} jobs, at most {MAX_BATCH_JOBS} allowed")]
    return [
        violation
        for i, (queue, payload, options) in enumerate(specs)
        for violation in validate_job(queue, payload, options, field_prefix=f"jobs[{i}].")
    ]


def check(violations: Sequence[FieldViolation]) -> None:
    """Raise InvalidArgumentError naming every violation, if there is any."""
    if violations:
        raise InvalidArgumentError(list(violations))
