"""One exception hierarchy for jobmesh domain code.

Domain code raises these and never imports grpc; `service_kit.rich_errors`
maps each class to a gRPC status code and a stable `ErrorInfo.reason` at the
service boundary.
"""

from __future__ import annotations

from dataclasses import dataclass


class JobmeshError(Exception):
    """Base of every error jobmesh raises on purpose."""

    reason: str = "INTERNAL"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field: its path in the request (e.g. `jobs[3].payload.symbol`) and what is wrong."""

    field: str
    description: str


class InvalidArgumentError(JobmeshError):
    """The request is malformed; `violations` names every bad field."""

    reason = "INVALID_ARGUMENT"

    def __init__(self, violations: list[FieldViolation], message: str | None = None) -> None:
        self.violations = list(violations)
        first = self.violations[0] if self.violations else None
        summary = message or (
            f"{first.field}: {first.description}" if first else "invalid argument"
        )
        if len(self.violations) > 1 and message is None:
            summary += f" (and {len(self.violations) - 1} more)"
        super().__init__(summary)


class NotFoundError(JobmeshError):
    """A named resource does not exist."""

    reason = "NOT_FOUND"

    def __init__(self, resource_type: str, name: str) -> None:
        super().__init__(f"{resource_type} {name!r} not found")
        self.resource_type = resource_type
        self.name = name


class FailedPreconditionError(JobmeshError):
    """The resource is not in a state that allows the operation."""

    reason = "FAILED_PRECONDITION"

    def __init__(self, message: str, violation_type: str = "STATE", subject: str = "") -> None:
        super().__init__(message)
        self.violation_type = violation_type
        self.subject = subject


class UnavailableError(JobmeshError):
    """A dependency (Redis) does not answer; the caller may call again shortly."""

    reason = "REDIS_UNAVAILABLE"


class DataLossError(JobmeshError):
    """Stored data is gone or no longer what was recorded (a file missing, or its SHA-256 changed):
    the service refuses to hand it out rather than hand out something else. `resource_type` and
    `name` say which."""

    reason = "DATA_LOSS"

    def __init__(self, message: str, resource_type: str, name: str) -> None:
        super().__init__(message)
        self.resource_type = resource_type
        self.name = name


class NotImplementedYetError(JobmeshError):
    """The RPC is part of the contract but its behaviour is not built yet."""

    reason = "NOT_IMPLEMENTED"


class UnrecoverableError(JobmeshError):
    """Raised by a job handler: the job must not be retried, whatever attempts it has left.

    Any exception says the same with a class attribute `retryable = False`; a
    task names foreign exception types that are never retried with
    `@broker.task(throws=(...))`, as in dramatiq.
    """

    reason = "UNRECOVERABLE"
    retryable = False


class JobDeadLetteredError(JobmeshError):
    """A job's final outcome, as its taskiq result tells it: it went to the dead-letter stream."""

    reason = "DEAD_LETTERED"


class RetryAfterError(JobmeshError):
    """Raised by a job handler: try again after `retry_after` seconds, not after the backoff.

    For a venue that answers "429, Retry-After: 30". Any exception with a
    `retry_after` attribute (seconds, or a timedelta) steers the wait the same
    way. The failed attempt counts; with no attempt left the job is dead-lettered.
    """

    reason = "RETRY_AFTER"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UnauthenticatedError(JobmeshError):
    """The call carries no credential the service accepts (no token, an unknown token, or no
    client certificate it knows). The message is the same for all of them, so a caller
    cannot probe which tokens exist."""

    reason = "UNAUTHENTICATED"


class PermissionDeniedError(JobmeshError):
    """The caller is known but lacks the role the RPC needs; `required_role` names it
    (e.g. "operator"), so the caller knows what to ask an administrator for."""

    reason = "PERMISSION_DENIED"

    def __init__(self, message: str, required_role: str) -> None:
        super().__init__(message)
        self.required_role = required_role


class RateLimitedError(JobmeshError):
    """The caller made more calls than its limit allows; it may call again after
    `retry_after_s` seconds (RESOURCE_EXHAUSTED with RetryInfo on the wire)."""

    reason = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_s: float, subject: str) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.subject = subject
