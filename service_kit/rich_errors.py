"""The one table from jobmesh exceptions to rich gRPC statuses, and the interceptor that applies it.

Domain code raises `queue_system.errors` and never imports grpc; at the
service boundary `ErrorInterceptor` turns each error into its canonical code,
a `google.rpc.ErrorInfo` (stable `reason`, domain "jobmesh") and the detail
that fits (BadRequest, ResourceInfo, PreconditionFailure, RetryInfo), so any
client in any language can act on the failure without parsing a message.
A Redis that does not answer is UNAVAILABLE (retryable); anything else that
escapes a servicer is INTERNAL with a generic message: the traceback goes to
the log, never to the caller, so no secret or internal detail leaks.

The interceptor also admits every request before its servicer runs: bytes
that do not decode, and a field over its bound (service_kit.bounds), are
INVALID_ARGUMENT like any other bad request, on every service and RPC.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

import grpc
import redis.exceptions
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from queue_system.errors import (
    DataLossError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    JobmeshError,
    NotFoundError,
    NotImplementedYetError,
    PermissionDeniedError,
    RateLimitedError,
    UnauthenticatedError,
    UnavailableError,
    UnrecoverableError,
)
from service_kit.bounds import MAX_REPORTED, check_bounds
from service_kit.handlers import Context, Undecodable, wrap_handler

log = logging.getLogger(__name__)

DOMAIN: Final = "jobmesh"
# How long a client should wait before retrying an UNAVAILABLE call.
RETRY_DELAY_S: Final = 1
INTERNAL_MESSAGE: Final = "internal error; the service log has the details"
REDIS_DOWN_MESSAGE: Final = "Redis does not answer; retry shortly"


class UndecodableRequestError(InvalidArgumentError):
    """The request's bytes do not decode as the method's request message."""

    reason = "UNDECODABLE_REQUEST"

    def __init__(self, undecodable: Undecodable) -> None:
        what = f"does not decode as {undecodable.type_name}: {undecodable.reason}"
        super().__init__([FieldViolation("request", what)], f"the request {what}")
        self.type_name = undecodable.type_name


def admit(request: Any) -> Any:
    """The request, if it decoded and every field is within its bound; else InvalidArgumentError."""
    if isinstance(request, Undecodable):
        raise UndecodableRequestError(request)
    if isinstance(request, Message):
        check_bounds(request)
    return request


def _bad_request(exc: InvalidArgumentError) -> list[Message]:
    """The first MAX_REPORTED violations (a batch of 10,000 bad jobs would not fit a status
    trailer); ErrorInfo's metadata and the message say how many there are in all."""
    return [
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                for v in exc.violations[:MAX_REPORTED]
            ]
        )
    ]


def _resource_info(exc: NotFoundError) -> list[Message]:
    return [
        error_details_pb2.ResourceInfo(
            resource_type=exc.resource_type, resource_name=exc.name, description=str(exc)
        )
    ]


def _lost(exc: DataLossError) -> list[Message]:
    """ResourceInfo names what was lost, so a client knows which resource to regenerate."""
    return [
        error_details_pb2.ResourceInfo(
            resource_type=exc.resource_type, resource_name=exc.name, description=str(exc)
        )
    ]


def _precondition_failure(exc: FailedPreconditionError) -> list[Message]:
    violation = error_details_pb2.PreconditionFailure.Violation(
        type=exc.violation_type, subject=exc.subject, description=str(exc)
    )
    return [error_details_pb2.PreconditionFailure(violations=[violation])]


def _retry_info(_: JobmeshError) -> list[Message]:
    return [error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=RETRY_DELAY_S))]


def _no_detail(_: JobmeshError) -> list[Message]:
    return []


def _rate_limited(exc: RateLimitedError) -> list[Message]:
    """RetryInfo says when the next call is allowed (rounded up to whole milliseconds, so a
    client that waits exactly that long is admitted); QuotaFailure names the limit."""
    delay = duration_pb2.Duration()
    delay.FromMilliseconds(max(1, math.ceil(exc.retry_after_s * 1000)))
    violation = error_details_pb2.QuotaFailure.Violation(subject=exc.subject, description=str(exc))
    quota = error_details_pb2.QuotaFailure(violations=[violation])
    return [error_details_pb2.RetryInfo(retry_delay=delay), quota]


def _metadata(exc: JobmeshError) -> dict[str, str]:
    if isinstance(exc, InvalidArgumentError):
        return {"violations": str(len(exc.violations))}
    if isinstance(exc, NotFoundError):
        return {"resource_type": exc.resource_type, "resource_name": exc.name}
    if isinstance(exc, PermissionDeniedError):
        return {"required_role": exc.required_role}
    if isinstance(exc, DataLossError):
        return {"resource_type": exc.resource_type, "resource_name": exc.name}
    if isinstance(exc, FailedPreconditionError):
        return {k: v for k, v in (("violation_type", exc.violation_type), ("subject", exc.subject)) if v}
    return {}


@dataclass(frozen=True, slots=True)
class Rule:
    """How one exception class travels: its status code and the detail messages beside ErrorInfo."""

    code: grpc.StatusCode
    details: Callable[[Any], list[Message]]


# The table. A subclass without a row of its own uses its nearest ancestor's.
RULES: Final[Mapping[type[JobmeshError], Rule]] = {
    InvalidArgumentError: Rule(grpc.StatusCode.INVALID_ARGUMENT, _bad_request),
    NotFoundError: Rule(grpc.StatusCode.NOT_FOUND, _resource_info),
    FailedPreconditionError: Rule(grpc.StatusCode.FAILED_PRECONDITION, _precondition_failure),
    UnavailableError: Rule(grpc.StatusCode.UNAVAILABLE, _retry_info),
    NotImplementedYetError: Rule(grpc.StatusCode.UNIMPLEMENTED, _no_detail),
    UnauthenticatedError: Rule(grpc.StatusCode.UNAUTHENTICATED, _no_detail),
    PermissionDeniedError: Rule(grpc.StatusCode.PERMISSION_DENIED, _no_detail),
    RateLimitedError: Rule(grpc.StatusCode.RESOURCE_EXHAUSTED, _rate_limited),
    DataLossError: Rule(grpc.StatusCode.DATA_LOSS, _lost),
    # A job handler's verdict that leaked to an RPC is a server-side failure.
    UnrecoverableError: Rule(grpc.StatusCode.INTERNAL, _no_detail),
    JobmeshError: Rule(grpc.StatusCode.INTERNAL, _no_detail),
}


def rule_for(exc: JobmeshError) -> Rule:
    """The table row of `exc`'s class, or of its nearest ancestor that has one."""
    for cls in type(exc).__mro__:
        rule = RULES.get(cls)
        if rule is not None:
            return rule
    return RULES[JobmeshError]


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def to_rich_status(exc: BaseException, method: str = "") -> status_pb2.Status:
    """The google.rpc.Status a caller receives for `exc` (raised while serving `method`)."""
    if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        exc = UnavailableError(REDIS_DOWN_MESSAGE)
    elif isinstance(exc, NotImplementedError) and not isinstance(exc, JobmeshError):
        exc = NotImplementedYetError(f"{method or 'this method'} is not implemented")
    if isinstance(exc, JobmeshError):
        rule, reason, message = rule_for(exc), exc.reason, str(exc)
        details = rule.details(exc)
        metadata = _metadata(exc)
    else:
        rule, reason, message = RULES[JobmeshError], JobmeshError.reason, INTERNAL_MESSAGE
        details, metadata = [], {}
    if method:
        metadata["method"] = method
    info = error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata)
    return status_pb2.Status(
        code=rule.code.value[0],
        message=message,
        details=[_pack(info), *(_pack(d) for d in details)],
    )


def to_grpc_status(exc: BaseException, method: str = "") -> grpc.Status:
    """`to_rich_status` as a grpc.Status (code, message, trailing metadata) ready to abort with."""
    status: grpc.Status = rpc_status.to_status(to_rich_status(exc, method))
    return status


def _note(exc: Exception, method: str) -> None:
    """Log what the caller will not see: a traceback for the unexpected, a line for the rest."""
    if isinstance(exc, JobmeshError) and not isinstance(exc, UnrecoverableError):
        log.debug("%s: %s: %s", method, type(exc).__name__, exc)
    elif isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        log.warning("%s: Redis does not answer (%s)", method, type(exc).__name__)
    else:
        log.exception("%s failed", method)


# Set around a state-changing call by the auth interceptor, which sits outside this one: awaited
# with the status code before an error answer goes out (grpc.aio's abort sends the status at
# once), so the call's audit entry is written before the caller hears of its failure.
BEFORE_ERROR_ANSWER: ContextVar[Callable[[grpc.StatusCode], Awaitable[None]] | None] = ContextVar(
    "before_error_answer", default=None
)


async def _abort(context: Context, exc: Exception, method: str) -> None:
    """End the call with the rich status of `exc` (raises grpc.aio.AbortError)."""
    status = to_grpc_status(exc, method)
    before = BEFORE_ERROR_ANSWER.get()
    if before is not None:
        await before(status.code)
    await context.abort(status.code, status.details, status.trailing_metadata)


def with_errors(handler: grpc.RpcMethodHandler[Any, Any], method: str) -> grpc.RpcMethodHandler[Any, Any]:
    """`handler` admitting each request first and ending in a rich status whatever escapes it."""

    async def unary(call: Callable[[], Awaitable[Any]], context: Context) -> Any:
        try:
            return await call()
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            _note(exc, method)
            await _abort(context, exc, method)

    async def stream(call: Callable[[], AsyncIterator[Any]], context: Context) -> AsyncIterator[Any]:
        try:
            async for item in call():
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            _note(exc, method)
            await _abort(context, exc, method)

    return wrap_handler(handler, unary, stream, admit=admit)


class ErrorInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Turns exceptions escaping servicer methods into rich statuses (see RULES; `with_errors`).

    Every request goes through `admit` first, inside the call: undecodable bytes
    and fields over their bounds never reach a servicer.
    """

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:  # unknown method: grpc answers UNIMPLEMENTED itself
            return handler
        return with_errors(handler, handler_call_details.method)
