"""What kind of failure killed a job: a rule table (data), read top to bottom, first match wins.

The queue runtime records each failed attempt as an `AttemptError` (the
exception's class name and its message) and each dead letter as a
`FailedJob` (with a `DeadLetterReason`). Classification reads those and
nothing else, so it needs no import of the libraries that raised: a gRPC
status shows in the message of grpc's errors (`status = StatusCode.UNAVAILABLE`),
an HTTP status in the message of httpx / aiohttp / requests errors
(`Client error '429 Too Many Requests'`, `429, message='Too Many Requests'`,
`HTTP 403`). To teach it a new failure, add a row to `RULES`; no code path changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.jobs.v1 import failure_pb2

C = cpb  # ErrorCategory values
_GRPC_CODE = re.compile(r"StatusCode\.([A-Z_]+)")
# "HTTP 429", "status 503", "status_code=401", "Client error '429 Too ...'", "429, message=...",
# "429 Client Error: ...": an HTTP status where the message names one.
_HTTP_STATUS = (
    re.compile(r"(?:\bHTTP(?:/[\d.]+)?|\bstatus(?:[ _]?code)?)\W{0,3}([1-5]\d\d)\b", re.IGNORECASE),
    re.compile(r"(?:^|')([1-5]\d\d)(?=,\s*message=|\s+[A-Z])"),
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One row: a failure matches when any of its matchers does (empty matchers match nothing)."""

    category: int  # ErrorCategory
    error_types: frozenset[str] = frozenset()  # exception class names, as AttemptError.error_type
    grpc_codes: frozenset[str] = frozenset()  # grpc.StatusCode names found in the message
    http_statuses: frozenset[int] = frozenset()  # HTTP statuses found in the message
    message: re.Pattern[str] | None = None  # searched in the message (case-insensitive)
    reasons: frozenset[int] = frozenset()  # DeadLetterReason of a failure with no attempt error


def _rule(
    category: int,
    *,
    types: str = "",
    grpc: str = "",
    http: Iterable[int] = (),
    message: str = "",
    reasons: Iterable[int] = (),
) -> Rule:
    return Rule(
        category,
        frozenset(types.split()),
        frozenset(grpc.split()),
        frozenset(http),
        re.compile(message, re.IGNORECASE) if message else None,
        frozenset(reasons),
    )


R = failure_pb2
# The table. Order matters where two rows could match: the more specific first (a 429 is a
# rate limit before it is a client error; a gRPC DEADLINE_EXCEEDED a timeout, not a network error).
RULES: Final[tuple[Rule, ...]] = (
    _rule(
        C.ERROR_CATEGORY_RATE_LIMIT,
        types="RateLimitedError RetryAfterError RateLimitExceeded TooManyRequests ThrottlingException",
        grpc="RESOURCE_EXHAUSTED",
        http=(429,),
        message=r"rate.?limit|too many requests|throttl|quota exceeded",
    ),
    _rule(
        C.ERROR_CATEGORY_TIMEOUT,
        types="TimeoutError CancelledError ReadTimeout ConnectTimeout TimeoutException WriteTimeout "
        "PoolTimeout ServerTimeoutError",
        grpc="DEADLINE_EXCEEDED",
        http=(408, 504),
        message=r"timed? ?out|deadline (exceeded|passed)|took too long",
        reasons=(R.DEAD_LETTER_REASON_DEADLINE_EXCEEDED,),
    ),
    _rule(
        C.ERROR_CATEGORY_AUTHORIZATION,
        types="PermissionError AuthenticationError AuthorizationError Unauthorized Forbidden "
        "InvalidCredentials PermissionDenied",
        grpc="PERMISSION_DENIED UNAUTHENTICATED",
        http=(401, 403, 407),
        message=r"unauthori[sz]ed|forbidden|permission denied|access denied|invalid (api )?(key|token)"
        r"|credentials?|not authenticated",
    ),
    _rule(
        C.ERROR_CATEGORY_RESOURCE,
        types="MemoryError ResourceWarning BlockingIOError WorkerLost RecursionError",
        http=(507,),
        message=r"out of memory|no space left|too many open files|disk (is )?full|cannot allocate"
        r"|resource (temporarily )?unavailable|OOM",
        reasons=(R.DEAD_LETTER_REASON_DELIVERIES_EXCEEDED,),
    ),
    _rule(
        C.ERROR_CATEGORY_NETWORK,
        types="ConnectionError ConnectionRefusedError ConnectionResetError ConnectionAbortedError "
        "BrokenPipeError gaierror herror ClientConnectorError ServerDisconnectedError "
        "ConnectError RemoteProtocolError NetworkError",
        grpc="UNAVAILABLE",
        http=(502, 503),
        message=r"connection (refused|reset|aborted|closed)|network|unreachable|name resolution"
        r"|dns|broken pipe|failed to connect|socket",
    ),
    _rule(
        C.ERROR_CATEGORY_VALIDATION,
        types="ValueError TypeError KeyError ValidationError InvalidArgumentError DecodeError "
        "JSONDecodeError UnrecoverableError AssertionError",
        grpc="INVALID_ARGUMENT FAILED_PRECONDITION OUT_OF_RANGE NOT_FOUND ALREADY_EXISTS",
        http=(400, 404, 409, 422),
        message=r"invalid|validation|malformed|must be|required|unknown (exchange|symbol|field)",
        reasons=(R.DEAD_LETTER_REASON_UNKNOWN_TASK, R.DEAD_LETTER_REASON_UNDECODABLE),
    ),
)


@dataclass(frozen=True, slots=True)
class Failure:
    """What classification reads of one failure: the exception's class name and message, or,
    for a job that failed without running, why it left its queue."""

    error_type: str = ""
    message: str = ""
    reason: int = 0  # DeadLetterReason
    bases: tuple[str, ...] = ()  # the exception's base classes, nearest first


def grpc_codes(message: str) -> set[str]:
    return set(_GRPC_CODE.findall(message))


def http_statuses(message: str) -> set[int]:
    return {int(code) for pattern in _HTTP_STATUS for code in pattern.findall(message)}


def by_structure(rule: Rule, failure: Failure) -> bool:
    """The failure's exception type, gRPC status, HTTP status or dead-letter reason is the rule's."""
    return (
        (bool(failure.error_type) and failure.error_type in rule.error_types)
        or (bool(failure.reason) and failure.reason in rule.reasons)
        or bool(rule.grpc_codes & grpc_codes(failure.message))
        or bool(rule.http_statuses & http_statuses(failure.message))
    )


def by_lineage(rule: Rule, failure: Failure) -> bool:
    """The failure's exception is a subclass of one of the rule's types (a job's own
    `ProviderNotBuiltError(ValueError)` is a ValueError)."""
    return any(base in rule.error_types for base in failure.bases)


def by_words(rule: Rule, failure: Failure) -> bool:
    """The failure's message reads like the rule's."""
    return rule.message is not None and bool(rule.message.search(failure.message))


def categorize(failure: Failure, rules: tuple[Rule, ...] = RULES) -> int:
    """The ErrorCategory of one failure: the first rule it matches, else UNKNOWN.

    Status codes and exception types speak more surely than words in a message,
    so the table is read three times: by structure, then by the exception's base
    classes, then by words.
    """
    for matcher in (by_structure, by_lineage, by_words):
        for rule in rules:
            if matcher(rule, failure):
                return rule.category
    return C.ERROR_CATEGORY_UNKNOWN


def failure_of(failed: failure_pb2.FailedJob) -> Failure:
    """The failure that decided a dead letter: its last attempt's error, else why it left."""
    if failed.errors:
        last = failed.errors[-1]
        return Failure(last.error_type, last.message, failed.reason, tuple(last.error_bases))
    return Failure("", failed.detail, failed.reason)


def classify(failed: failure_pb2.FailedJob) -> int:
    """The ErrorCategory of a dead letter."""
    return categorize(failure_of(failed))
