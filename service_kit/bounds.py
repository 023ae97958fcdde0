"""A bound on every string, bytes, repeated and map field of every request, checked before the servicer.

Nothing unbounded may cross the service boundary on its way to Redis. The
error interceptor walks each decoded request with `check_bounds` and refuses
one with a field over its bound as INVALID_ARGUMENT, its violations naming
each field by its path in the request ("request_id", "jobs[3].queue",
"queues[2]", a map entry as 'name["key"]'), so no servicer has to remember it.

Bounds: strings 1,024 characters, bytes 64 KiB, repeated fields 10,000
entries, maps 100 entries (the job validator's defaults), except where
`BOUND_BY_NAME` / `BOUND_BY_FIELD` say otherwise. google.protobuf.Struct,
Value and ListValue are free-form: they are bounded as a whole, by their
serialized size and how deep they nest.

The messages a job is made of (`JOB_VALIDATED`) are not walked: the job
validator (queue_system.validation) checks them, bounds included, when the
job is added, and walking them here too would double the cost of a batch of
10,000 jobs. The walk is cheap otherwise: one plan per message type, made
once, and only the planned fields read (`_reads`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, Final

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.validation.rules import (
    LIST_VALUE,
    MAX_MAP_ENTRIES,
    MAX_REPEATED,
    MAX_STRING_CHARS,
    STRUCT,
    free_form_problem,
)
from service_kit.idempotency import MAX_REQUEST_ID

MAX_BYTES: Final = 64 * 1_024
# Opaque tokens this service hands out (base64 of JSON positions): longer than a name.
MAX_TOKEN_CHARS: Final = 4_096
# At most this many violations in one answer: each is a line of the status trailer.
MAX_REPORTED: Final = 20

# Bound of a string or bytes field (of each entry, when repeated) other than its kind's default.
# By field name: a convention that holds across the contract.
BOUND_BY_NAME: Final[Mapping[str, int]] = {
    "request_id": MAX_REQUEST_ID,
    "page_token": MAX_TOKEN_CHARS,
    "resume_token": MAX_TOKEN_CHARS,
}
# By full field name ("jobmesh.queue.v1.ListJobsRequest.page_token"), for one field; wins over the name.
BOUND_BY_FIELD: Final[Mapping[str, int]] = {}
# Entries of a repeated or map field other than its kind's default, by full field name.
ENTRIES_BY_FIELD: Final[Mapping[str, int]] = {}

# Checked, bounds included, by the job validator when a job is added (EnqueueJob, EnqueueJobs).
JOB_VALIDATED: Final = frozenset({
    "jobmesh.jobs.v1.JobPayload",
    "jobmesh.jobs.v1.JobOptions",
    "jobmesh.jobs.v1.TraceContext",
})
VALUE: Final = "google.protobuf.Value"
FREE_FORM: Final = frozenset({STRUCT, LIST_VALUE, VALUE})

_STRING = FieldDescriptor.TYPE_STRING
_BYTES = FieldDescriptor.TYPE_BYTES


def value_bound(field: FieldDescriptor) -> int:
    """Characters of a string field, bytes of a bytes field (of each entry, when repeated)."""
    default = MAX_BYTES if field.type == _BYTES else MAX_STRING_CHARS
    return BOUND_BY_FIELD.get(field.full_name, BOUND_BY_NAME.get(field.name, default))


def is_map(field: FieldDescriptor) -> bool:
    entry = field.message_type
    return bool(field.is_repeated and entry is not None and entry.GetOptions().map_entry)


def entries_bound(field: FieldDescriptor) -> int:
    """Entries of a repeated or map field."""
    return ENTRIES_BY_FIELD.get(field.full_name, MAX_MAP_ENTRIES if is_map(field) else MAX_REPEATED)


class _EnoughError(Exception):
    """Stops a walk once MAX_REPORTED violations are found."""


class _Found:
    """The violations of one walk, up to MAX_REPORTED."""

    __slots__ = ("violations",)

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def add(self, where: str, description: str) -> None:
        self.violations.append(FieldViolation(where, description))
        if len(self.violations) >= MAX_REPORTED:
            raise _EnoughError


# Checks one value of a field: (value, its path, found).
Check = Callable[[Any, str, _Found], None]


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _string_check(bound: int) -> Check:
    def check(value: str, where: str, found: _Found) -> None:
        if len(value) > bound:
            found.add(where, f"is {len(value)} characters long, at most {bound} allowed")

    return check


def _bytes_check(bound: int) -> Check:
    def check(value: bytes, where: str, found: _Found) -> None:
        if len(value) > bound:
            found.add(where, f"is {len(value)} bytes long, at most {bound} allowed")

    return check


def _free_form_check(value: Message, where: str, found: _Found) -> None:
    problem = free_form_problem(value)
    if problem:
        found.add(where, problem)


def _message_check(value: Message, where: str, found: _Found) -> None:
    _walk(value, where, found)


def _needs_walk(descriptor: Descriptor, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a message type holds any field with a bound (its plan is not empty)."""
    if descriptor.full_name in JOB_VALIDATED:
        return False
    if descriptor.full_name in FREE_FORM or descriptor.full_name in seen:
        return True
    inner = seen | {descriptor.full_name}
    return any(
        f.is_repeated
        or f.type in (_STRING, _BYTES)
        or (f.message_type is not None and _needs_walk(f.message_type, inner))
        for f in descriptor.fields
    )


def _value_check(field: FieldDescriptor) -> Check | None:
    """The check of one value of `field` (one entry, when repeated); None when it has no bound."""
    if field.type == _STRING:
        return _string_check(value_bound(field))
    if field.type == _BYTES:
        return _bytes_check(value_bound(field))
    sub = field.message_type  # a message (or group) field
    if sub is not None:
        if sub.full_name in FREE_FORM:
            return _free_form_check
        if _needs_walk(sub):
            return _message_check
    return None


def _repeated_check(field: FieldDescriptor) -> Check:
    bound, each = entries_bound(field), _value_check(field)

    def check(values: Sequence[Any], where: str, found: _Found) -> None:
        if len(values) > bound:
            found.add(where, f"has {len(values)} entries, at most {bound} allowed")
        elif each is not None:
            for i, value in enumerate(values):
                each(value, f"{where}[{i}]", found)

    return check


def _map_check(field: FieldDescriptor) -> Check:
    entry = field.message_type
    assert entry is not None  # a map field's entry message
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    bound, key_bound, each = entries_bound(field), value_bound(key_field), _value_check(value_field)
    string_keys = key_field.type == _STRING

    def check(entries: Mapping[Any, Any], where: str, found: _Found) -> None:
        if len(entries) > bound:
            found.add(where, f"has {len(entries)} entries, at most {bound} allowed")
            return
        for key, value in entries.items():
            if string_keys and len(key) > key_bound:
                found.add(where, f"has a key {len(key)} characters long, at most {key_bound} allowed")
            elif each is not None:
                each(value, f"{where}[{json.dumps(key, ensure_ascii=False)}]", found)

    return check


@cache
def plan(descriptor: Descriptor) -> Mapping[int, tuple[str, Check]]:
    """Field number -> (field name, check) for every field of a message type that has a bound.

    A field of a JOB_VALIDATED type is left out (the job validator bounds it), but
    the entries of a repeated or map one are still counted.
    """
    checks: dict[int, tuple[str, Check]] = {}
    for field in descriptor.fields:
        check: Check | None
        if is_map(field):
            check = _map_check(field)
        elif field.is_repeated:
            check = _repeated_check(field)
        else:
            check = _value_check(field)
        if check is not None:
            checks[field.number] = (field.name, check)
    return checks


@cache
def _reads(descriptor: Descriptor) -> tuple[tuple[str, Check, bool], ...]:
    """`plan` as the walk reads it: (field name, check, skip it when unset) in field number
    order, the order ListFields gives, so violations come in the same order.

    The walk reads each planned field itself instead of asking ListFields for the set ones:
    plans are small (at most six fields on any request of the contract), while ListFields
    lists, and wraps as Python objects, every set field, the job's payload and options
    included, which are not planned (EnqueueJob's walk: 1.1 → 0.4 µs). An unset field reads
    as its default, which no check refuses (every file is proto3: "" and b"" are within any
    bound, an unset repeated or map field has no entries), so only an unset message field is
    skipped (HasField), not to make an empty one to walk.
    """
    checks = plan(descriptor)
    return tuple(
        (field.name, checks[field.number][1], field.message_type is not None and not field.is_repeated)
        for field in sorted(descriptor.fields, key=lambda f: f.number)
        if field.number in checks
    )


def _walk(msg: Message, path: str, found: _Found) -> None:
    for name, check, only_if_set in _reads(msg.DESCRIPTOR):
        if only_if_set and not msg.HasField(name):
            continue
        check(getattr(msg, name), _at(path, name), found)


def bound_violations(request: Message) -> list[FieldViolation]:
    """Every field of `request` over its bound (at most MAX_REPORTED), by its path in the request."""
    found = _Found()
    # not contextlib.suppress: that is a context manager made and entered on every request
    # (~0.3 µs); a try costs nothing until a walk stops early
    try:  # noqa: SIM105
        _walk(request, "", found)
    except _EnoughError:
        pass
    return found.violations


def check_bounds(request: Message) -> None:
    """Raise InvalidArgumentError naming every field of `request` over its bound, if any."""
    violations = bound_violations(request)
    if violations:
        raise InvalidArgumentError(violations)
