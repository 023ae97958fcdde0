"""Classification from realistic failures: real exceptions, recorded the way a worker records them."""

from __future__ import annotations

import asyncio
import errno
import time

import grpc
import pytest

from dlq_svc.classification import RULES, Failure, categorize, classify, http_statuses
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.jobs.v1 import failure_pb2
from queue_system.errors import RetryAfterError, UnrecoverableError
from queue_system.failure import attempt_error

C = cpb


def raised(exc: BaseException) -> Failure:
    """The failure of an attempt that raised `exc`, as the worker writes it into the dead letter."""
    try:
        raise exc
    except BaseException as caught:
        error = attempt_error(caught, 1, time.time() * 1000, "worker-1")
    return Failure(error.error_type, error.message, bases=tuple(error.error_bases))


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class ClientResponseError(Exception):
    """aiohttp's error type name and message shape (aiohttp is not a dependency)."""


class HTTPStatusError(Exception):
    """httpx's error type name and message shape."""


class ProviderNotBuiltError(ValueError):
    """A job's own error class, named nothing the table knows: its base decides."""


class VenueSilentError(TimeoutError):
    pass


CASES = [
    (ProviderNotBuiltError("provider gocardless is not built yet"), C.ERROR_CATEGORY_VALIDATION),
    (VenueSilentError("kraken"), C.ERROR_CATEGORY_TIMEOUT),
    (asyncio.TimeoutError(), C.ERROR_CATEGORY_TIMEOUT),  # noqa: UP041 - what asyncio code raises
    (TimeoutError("venue did not answer within 5s"), C.ERROR_CATEGORY_TIMEOUT),
    (rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), C.ERROR_CATEGORY_TIMEOUT),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), C.ERROR_CATEGORY_NETWORK),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), C.ERROR_CATEGORY_NETWORK),
    (rpc_error(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses"), C.ERROR_CATEGORY_NETWORK),
    (
        HTTPStatusError("Server error '503 Service Unavailable' for url 'https://api.kraken.com'"),
        C.ERROR_CATEGORY_NETWORK,
    ),
    (
        ClientResponseError("429, message='Too Many Requests', url='https://api.binance.com/api/v3/order'"),
        C.ERROR_CATEGORY_RATE_LIMIT,
    ),
    (
        HTTPStatusError("Client error '429 Too Many Requests' for url 'https://bankapi.example/tx'"),
        C.ERROR_CATEGORY_RATE_LIMIT,
    ),
    (RetryAfterError("429 from the venue", 30), C.ERROR_CATEGORY_RATE_LIMIT),
    (rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "quota exceeded"), C.ERROR_CATEGORY_RATE_LIMIT),
    (ValueError("amount must be positive, got -5"), C.ERROR_CATEGORY_VALIDATION),
    (KeyError("accountId"), C.ERROR_CATEGORY_VALIDATION),
    (UnrecoverableError("payload names no account"), C.ERROR_CATEGORY_VALIDATION),
    (rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "symbol: unknown"), C.ERROR_CATEGORY_VALIDATION),
    (
        ClientResponseError("422, message='Unprocessable Entity', url='https://bankapi.example/sync'"),
        C.ERROR_CATEGORY_VALIDATION,
    ),
    (
        PermissionError(errno.EACCES, "Permission denied", "/var/reports/q3.pdf"),
        C.ERROR_CATEGORY_AUTHORIZATION,
    ),
    (
        ClientResponseError("401, message='Unauthorized', url='https://api.coinbase.com/orders'"),
        C.ERROR_CATEGORY_AUTHORIZATION,
    ),
    (
        HTTPStatusError("Client error '403 Forbidden' for url 'https://bankapi.example/accounts'"),
        C.ERROR_CATEGORY_AUTHORIZATION,
    ),
    (rpc_error(grpc.StatusCode.UNAUTHENTICATED, "token expired"), C.ERROR_CATEGORY_AUTHORIZATION),
    (MemoryError(), C.ERROR_CATEGORY_RESOURCE),
    (OSError(errno.ENOSPC, "No space left on device"), C.ERROR_CATEGORY_RESOURCE),
    (RuntimeError("something odd happened"), C.ERROR_CATEGORY_UNKNOWN),
]


@pytest.mark.parametrize(
    ("exc", "category"), CASES, ids=[f"{type(e).__name__}-{i}" for i, (e, _) in enumerate(CASES)]
)
def test_a_realistic_failure_gets_its_category(exc: BaseException, category: int) -> None:
    assert cpb.ErrorCategory.Name(categorize(raised(exc))) == cpb.ErrorCategory.Name(category)


def test_a_status_code_speaks_louder_than_the_exception_type() -> None:
    # a ValueError whose message carries a 429 is a rate limit, not a validation error
    assert categorize(Failure("ValueError", "HTTP 429 from the venue")) == C.ERROR_CATEGORY_RATE_LIMIT
    assert http_statuses("status_code=403 while syncing") == {403}
    assert http_statuses("order 12345 of 2024") == set()


def test_failures_without_an_attempt_error_are_classified_by_why_they_left() -> None:
    def dead(reason: int, detail: str = "") -> failure_pb2.FailedJob:
        return failure_pb2.FailedJob(reason=reason, detail=detail)  # type: ignore[arg-type]

    assert classify(dead(failure_pb2.DEAD_LETTER_REASON_UNKNOWN_TASK)) == C.ERROR_CATEGORY_VALIDATION
    assert classify(dead(failure_pb2.DEAD_LETTER_REASON_DEADLINE_EXCEEDED)) == C.ERROR_CATEGORY_TIMEOUT
    assert classify(dead(failure_pb2.DEAD_LETTER_REASON_UNDECODABLE)) == C.ERROR_CATEGORY_VALIDATION
    # the attempt a job never finished because it kept killing its worker
    lost = dead(failure_pb2.DEAD_LETTER_REASON_DELIVERIES_EXCEEDED)
    lost.errors.add(
        attempt=1, error_type="WorkerLost", message="delivered 4 times; its worker stopped every time"
    )
    assert classify(lost) == C.ERROR_CATEGORY_RESOURCE


def test_the_last_attempt_decides() -> None:
    failed = failure_pb2.FailedJob(reason=failure_pb2.DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED)
    failed.errors.add(
        attempt=1, error_type="ConnectionRefusedError", message="[Errno 111] Connection refused"
    )
    failed.errors.add(attempt=2, error_type="PermissionError", message="[Errno 13] Permission denied")
    assert classify(failed) == C.ERROR_CATEGORY_AUTHORIZATION


def test_the_rule_table_covers_every_category_but_unknown() -> None:
    covered = {r.category for r in RULES}
    assert covered == set(cpb.ErrorCategory.values()) - {
        C.ERROR_CATEGORY_UNSPECIFIED,
        C.ERROR_CATEGORY_UNKNOWN,
    }
