"""The rule engine of submission-time validation: one rule per field, every violation named.

A rule checks one field of a message and yields a `FieldViolation` per
problem, with the field's path in the request ("payload.categorization.method",
"jobs[3].options.delay"). A `RuleBook` maps every message type to its rules
and walks a message and every message inside it, so a caller learns every bad
field in one answer, never only the first. Which rules each job field has is
the job rule table's business (`job_rules.py`); this module knows no job type.

Pure: no I/O and no grpc.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Final, Generic, Protocol, TypeVar

from google.protobuf.descriptor import Descriptor, EnumDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Value
from google.protobuf.timestamp_pb2 import Timestamp

from queue_system.decimals import DecimalFormatError, amount_of, quoted
from queue_system.errors import FieldViolation, InvalidArgumentError

MAX_STRING_CHARS: Final = 1_024
MAX_REPEATED: Final = 10_000
MAX_MAP_ENTRIES: Final = 100
MAX_STRUCT_BYTES: Final = 64 * 1_024
# Structs and lists inside each other in one free-form value.
MAX_STRUCT_DEPTH: Final = 32
STRUCT: Final = "google.protobuf.Struct"
LIST_VALUE: Final = "google.protobuf.ListValue"

HOUR: Final = 3_600
DAY: Final = 24 * HOUR
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


def up_to(high: int, high_text: str | None = None, *, low: int | None = 0) -> Range:
    return Range(None if low is None else Decimal(low), Decimal(high), high_text=high_text)


POSITIVE: Final = Range(low=Decimal(0), low_open=True)
NON_NEGATIVE: Final = Range(low=Decimal(0))
AT_LEAST_ONE: Final = Range(low=Decimal(1))
PERCENTAGE: Final = Range(low=Decimal(0), high=Decimal(100), low_open=True)
FRACTION: Final = up_to(1)


# --- small helpers ------------------------------------------------------------------------------


def at(path: str, name: str) -> str:
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
    return length_problem(value, max_chars)


def length_problem(value: str, max_chars: int) -> str | None:
    if len(value) > max_chars:
        return f"is {len(value)} characters long, at most {max_chars} allowed"
    return None


def _seconds(value: Decimal) -> str:
    """A duration in seconds as the protobuf JSON form writes it ("1.5s")."""
    text = f"{value:f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "s"


def timestamp_problem(ts: Timestamp) -> str | None:
    if not _MIN_TIMESTAMP_SECONDS <= ts.seconds <= _MAX_TIMESTAMP_SECONDS:
        return (
            "seconds must be within years 0001..9999 "
            f"({_MIN_TIMESTAMP_SECONDS}..{_MAX_TIMESTAMP_SECONDS}), got {ts.seconds}"
        )
    if not 0 <= ts.nanos <= _MAX_NANOS:
        return f"nanos must be between 0 and {_MAX_NANOS}, got {ts.nanos}"
    return None


def duration_problem(d: Duration) -> str | None:
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

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations: ...


@dataclass(frozen=True, slots=True)
class Text:
    """A string: at most `max_chars`; when required (or `optional` and set), not empty or blank."""

    field: str
    required: bool = False
    max_chars: int = MAX_STRING_CHARS

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        problem = self._problem(msg, getattr(msg, self.field))
        if problem:
            yield FieldViolation(at(path, self.field), problem)

    def _problem(self, msg: Message, value: str) -> str | None:
        if not (self.required or _has(msg, self.field)):
            return length_problem(value, self.max_chars)
        if value == "":
            return "required" if self.required else "must not be empty when set"
        return _text_problem(value, self.max_chars)


@dataclass(frozen=True, slots=True)
class Bytes:
    """A bytes field (a file a job carries): at most `max_bytes`; when required, not empty."""

    field: str
    max_bytes: int
    required: bool = False

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        value: bytes = getattr(msg, self.field)
        if len(value) > self.max_bytes:
            yield FieldViolation(
                at(path, self.field), f"is {len(value)} bytes long, at most {self.max_bytes} allowed"
            )
        elif self.required and not value:
            yield FieldViolation(at(path, self.field), "required")


@dataclass(frozen=True, slots=True)
class Texts:
    """A repeated string: at most 10,000 entries, each non-blank; `min_count` (distinct) entries."""

    field: str
    min_count: int = 0
    distinct: bool = False

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        values: Sequence[str] = getattr(msg, self.field)
        where = at(path, self.field)
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

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        value: int = getattr(msg, self.field)
        enum = _enum_of(msg.DESCRIPTOR, self.field)
        known = value in enum.values_by_number
        if known and (value != 0 or not self.required):
            return
        allowed = ", ".join(v.name for v in enum.values if v.number != 0 or not self.required)
        if not known:
            yield FieldViolation(at(path, self.field), f"unknown value {value}, must be one of {allowed}")
        else:
            yield FieldViolation(at(path, self.field), f"required, one of {allowed}")


@dataclass(frozen=True, slots=True)
class Number:
    """An int or double (if `optional`, only when set): finite and within `allowed`."""

    field: str
    allowed: Range

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        if _tracks_presence(msg, self.field) and not msg.HasField(self.field):
            return
        value: int | float = getattr(msg, self.field)
        where = at(path, self.field)
        if isinstance(value, float) and not math.isfinite(value):
            yield FieldViolation(where, f"must be a finite number, got {value}")
        elif problem := self.allowed.problem(Decimal(value)):
            yield FieldViolation(where, f"{problem}, got {value!r}")


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount (a JSON number or decimal string: queue_system.decimals) within `allowed`."""

    field: str
    required: bool = False
    allowed: Range | None = None

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        where = at(path, self.field)
        if not msg.HasField(self.field):
            yield from _if_required(self.required, where)
            return
        try:
            value = amount_of(getattr(msg, self.field))
        except DecimalFormatError as exc:
            yield FieldViolation(where, str(exc))
            return
        problem = self.allowed.problem(value) if self.allowed else None
        if problem:
            yield FieldViolation(where, f"{problem}, got {value}")


@dataclass(frozen=True, slots=True)
class Amounts:
    """A map of name -> amount: at most 100 entries, names non-blank, values finite decimals."""

    field: str

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        entries: Mapping[str, Value] = getattr(msg, self.field)
        where = at(path, self.field)
        if len(entries) > MAX_MAP_ENTRIES:
            yield FieldViolation(where, f"has {len(entries)} entries, at most {MAX_MAP_ENTRIES} allowed")
            return
        for key in sorted(entries):
            problem = _text_problem(key, MAX_STRING_CHARS)
            if problem:
                yield FieldViolation(where, f"key {quoted(key)} {problem}")
                continue
            try:
                amount_of(entries[key])
            except DecimalFormatError as exc:
                yield FieldViolation(f"{where}[{json.dumps(key, ensure_ascii=False)}]", str(exc))


def _if_required(required: bool, where: str) -> Violations:
    """The violation of a message field left unset, when it is required."""
    if required:
        yield FieldViolation(where, "required")


@dataclass(frozen=True, slots=True)
class Stamp:
    """A google.protobuf.Timestamp: a valid instant when set."""

    field: str
    required: bool = False

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        where = at(path, self.field)
        if not msg.HasField(self.field):
            yield from _if_required(self.required, where)
            return
        problem = timestamp_problem(getattr(msg, self.field))
        if problem:
            yield FieldViolation(where, problem)


@dataclass(frozen=True, slots=True)
class Span:
    """A google.protobuf.Duration: valid and within `allowed` (in seconds) when set."""

    field: str
    allowed: Range

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        if not msg.HasField(self.field):
            return
        duration: Duration = getattr(msg, self.field)
        where = at(path, self.field)
        problem = duration_problem(duration)
        if problem:
            yield FieldViolation(where, problem)
            return
        seconds = Decimal(duration.seconds) + Decimal(duration.nanos).scaleb(-9)
        problem = self.allowed.problem(seconds)
        if problem:
            yield FieldViolation(where, f"{problem}, got {_seconds(seconds)}")


def nesting(value: Message) -> int:
    """How many Structs and lists are inside each other in a free-form value (stops past the bound)."""
    deepest = 0
    stack: list[tuple[Message, int]] = [(value, 0)]
    while stack:
        msg, level = stack.pop()
        name = msg.DESCRIPTOR.full_name
        children: Iterable[Message]
        if name == STRUCT:
            level += 1
            children = msg.fields.values()  # type: ignore[attr-defined]
        elif name == LIST_VALUE:
            level += 1
            children = msg.values  # type: ignore[attr-defined]
        else:
            kind = msg.WhichOneof("kind")
            children = (getattr(msg, kind),) if kind in ("struct_value", "list_value") else ()
        if level > deepest:
            deepest = level
            if deepest > MAX_STRUCT_DEPTH:
                return deepest
        stack.extend((child, level) for child in children)
    return deepest


def free_form_problem(value: Message) -> str | None:
    """What is wrong with a free-form value (Struct, Value, ListValue): too big or too deep."""
    size = value.ByteSize()
    if size > MAX_STRUCT_BYTES:
        return f"is {size} bytes serialized, at most {MAX_STRUCT_BYTES} allowed"
    if nesting(value) > MAX_STRUCT_DEPTH:
        return f"nests Structs and lists more than {MAX_STRUCT_DEPTH} levels deep"
    return None


@dataclass(frozen=True, slots=True)
class Blob:
    """A google.protobuf.Struct of free-form values: at most 64 KiB serialized and 32 levels deep."""

    field: str

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        problem = free_form_problem(getattr(msg, self.field))
        if problem:
            yield FieldViolation(at(path, self.field), problem)


@dataclass(frozen=True, slots=True)
class Nested:
    """A sub-message: checked by its own rules in RULES when set."""

    field: str
    required: bool = False

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        where = at(path, self.field)
        if not msg.HasField(self.field):
            yield from _if_required(self.required, where)
            return
        yield from book.check_message(getattr(msg, self.field), where)


@dataclass(frozen=True, slots=True)
class Each:
    """A repeated sub-message: at most `max_count` entries, each checked by its own rules."""

    field: str
    max_count: int = MAX_REPEATED

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        values: Sequence[Message] = getattr(msg, self.field)
        where = at(path, self.field)
        if len(values) > self.max_count:
            yield FieldViolation(where, f"has {len(values)} entries, at most {self.max_count} allowed")
            return
        for i, value in enumerate(values):
            yield from book.check_message(value, f"{where}[{i}]")


@dataclass(frozen=True, slots=True)
class Free:
    """A field every value of which is fine (a sequence number, a flag)."""

    field: str

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        return iter(())


@dataclass(frozen=True, slots=True)
class Across(Generic[M]):
    """A rule that needs more than one field of a `kind` message; violations name `field`."""

    field: str
    kind: type[M]
    rule: Callable[[M, str], Violations]

    def check(self, msg: Message, path: str, book: RuleBook) -> Violations:
        if not isinstance(msg, self.kind):
            raise TypeError(f"rule for {self.kind.__name__}.{self.field} applied to {type(msg).__name__}")
        return self.rule(msg, at(path, self.field))


# --- the quick yes: one predicate per rule, built once per message type --------------------------

Passes = Callable[[Message], bool]


def _exactly(rule: Rule, book: RuleBook) -> Passes:
    """A rule's own check, asked only whether it finds anything: for rules too rare to hand-compile."""
    return lambda msg: next(iter(rule.check(msg, "", book)), None) is None


def _text(rule: Text, sample: Message) -> Passes:
    name, limit = rule.field, rule.max_chars
    if rule.required:
        return lambda msg: bool((value := getattr(msg, name)).strip()) and len(value) <= limit
    if _tracks_presence(sample, name):
        return lambda msg: (
            not msg.HasField(name) or (bool((value := getattr(msg, name)).strip()) and len(value) <= limit)
        )
    return lambda msg: len(getattr(msg, name)) <= limit


def _texts(rule: Texts) -> Passes:
    name, min_count, distinct = rule.field, rule.min_count, rule.distinct

    def passes(msg: Message) -> bool:
        values: Sequence[str] = getattr(msg, name)
        count = len(values)
        if count > MAX_REPEATED or count < min_count:
            return False
        for value in values:
            if not value.strip() or len(value) > MAX_STRING_CHARS:
                return False
        return not distinct or len(set(values)) == count

    return passes


def _choice(rule: Choice, sample: Message) -> Passes:
    name = rule.field
    allowed = frozenset(
        v.number for v in _enum_of(sample.DESCRIPTOR, name).values if v.number != 0 or not rule.required
    )
    return lambda msg: getattr(msg, name) in allowed


def _stamp(rule: Stamp) -> Passes:
    name, unset_passes = rule.field, not rule.required

    def passes(msg: Message) -> bool:
        if not msg.HasField(name):
            return unset_passes
        stamp: Timestamp = getattr(msg, name)
        # timestamp_problem's bounds, without a call per job
        return (
            _MIN_TIMESTAMP_SECONDS <= stamp.seconds <= _MAX_TIMESTAMP_SECONDS
            and 0 <= stamp.nanos <= _MAX_NANOS
        )

    return passes


def _nested(rule: Nested, book: RuleBook) -> Passes:
    name, unset_passes = rule.field, not rule.required
    return lambda msg: book.passes(getattr(msg, name)) if msg.HasField(name) else unset_passes


def _each(rule: Each, book: RuleBook) -> Passes:
    name, max_count = rule.field, rule.max_count

    def passes(msg: Message) -> bool:
        values: Sequence[Message] = getattr(msg, name)
        if len(values) > max_count:
            return False
        for value in values:  # noqa: SIM110 (a loop: no generator for the usual empty list)
            if not book.passes(value):
                return False
        return True

    return passes


def _only_when_set(rule: Rule, book: RuleBook) -> Passes:
    """Rules of a field with presence that pass when it is unset (Span, Number on `optional`)."""
    name, exactly = rule.field, _exactly(rule, book)
    return lambda msg: not msg.HasField(name) or exactly(msg)


def _predicate(rule: Rule, sample: Message, book: RuleBook) -> Passes | None:
    """`rule` as a yes/no question (None: every value passes). It may answer "no" where the rule
    finds nothing (the walk then answers []), never "yes" where it finds something."""
    match rule:
        case Free():
            return None
        case Text():
            return _text(rule, sample)
        case Texts():
            return _texts(rule)
        case Choice():
            return _choice(rule, sample)
        case Stamp():
            return _stamp(rule)
        case Nested():
            return _nested(rule, book)
        case Each():
            return _each(rule, book)
        case Bytes():
            name, limit, required = rule.field, rule.max_bytes, rule.required
            return lambda msg: len(value := getattr(msg, name)) <= limit and (bool(value) or not required)
        case Span():
            return _only_when_set(rule, book)
        case Number() if _tracks_presence(sample, rule.field):
            return _only_when_set(rule, book)
        case _:
            return _exactly(rule, book)


class RuleBook:
    """Every message type a request may hold -> the rules of its fields.

    Two ways to ask: `check_message` walks every rule and names every violation
    (what a caller is answered), `passes` only says whether there is one. Nearly
    every job passes, so the producer asks `passes` first and walks only the jobs
    it says no to: the answer is the walk's either way, and the common case costs
    a few attribute reads per field instead of a generator per rule.
    """

    def __init__(self, rules: Mapping[type[Message], tuple[Rule, ...]]) -> None:
        self.rules = rules
        self._predicates: dict[type[Message], tuple[Passes, ...]] = {}

    def check_message(self, msg: Message, path: str) -> Violations:
        """Every violation of a message and of the messages inside it."""
        for rule in self.rules[type(msg)]:
            yield from rule.check(msg, path, self)

    def passes(self, msg: Message) -> bool:
        """Whether `check_message` finds nothing in `msg`: its predicates, built on first use."""
        kind = type(msg)
        predicates = self._predicates.get(kind)
        if predicates is None:
            built = (_predicate(rule, msg, self) for rule in self.rules[kind])
            predicates = self._predicates[kind] = tuple(p for p in built if p is not None)
        # a loop, not all(generator): this runs for every job, and the generator costs more
        for predicate in predicates:  # noqa: SIM110
            if not predicate(msg):
                return False
        return True


def check(violations: Sequence[FieldViolation]) -> None:
    """Raise InvalidArgumentError naming every violation, if there is any."""
    if violations:
        raise InvalidArgumentError(list(violations))
