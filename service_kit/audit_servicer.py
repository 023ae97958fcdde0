"""AuditService over the wire: the audit trail, read back page by page (ListAuditEntries).

Every service serves it (`Service` in service_kit.server adds it beside the
service's own), because the trail is one stream every service writes to: an
operator asks whichever service is at hand, and no service owns the trail. The
contract makes it ROLE_ADMIN. Without auth configured (loopback only) it is
served like every RPC then, and answers what the stream holds: nothing is
audited without auth, so usually nothing, or what an authenticated mesh on the
same Redis and QUEUE_PREFIX wrote.

Thin: the request is checked here (bounds, since/until, a known code name) and
the stream is read by queue_system.audit_trail, which knows no gRPC.
"""

from __future__ import annotations

from typing import Any, Final

import grpc
import redis.asyncio as aioredis
from google.protobuf import duration_pb2, timestamp_pb2

from jobmesh.auth.v1 import audit_service_pb2 as pb
from jobmesh.auth.v1 import audit_service_pb2_grpc as pb_grpc
from queue_system.audit_trail import AuditFilters, AuditRecord, read_audit, time_violations
from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.tokens import page_size_violations

Ctx = grpc.aio.ServicerContext[Any, Any]

MAX_PAGE: Final = 500
DEFAULT_PAGE: Final = 50
# The codes an entry can hold: what grpc names its status codes.
CODE_NAMES: Final = frozenset(code.name for code in grpc.StatusCode)


def _ms(request: pb.ListAuditEntriesRequest, field: str, bad: list[FieldViolation]) -> int | None:
    """The ms epoch of a time bound of the request (None: not set, or not a valid Timestamp,
    which is added to `bad`)."""
    if not request.HasField(field):
        return None
    stamp: timestamp_pb2.Timestamp = getattr(request, field)
    try:
        return int(stamp.ToMilliseconds())
    except ValueError:  # seconds past 0001..9999, or nanos out of 0..999,999,999
        bad.append(FieldViolation(field, "is not a valid Timestamp"))
        return None


def filters_of(request: pb.ListAuditEntriesRequest) -> AuditFilters:
    """The request's filters, or InvalidArgumentError naming every field that is wrong
    (page_size out of 0..MAX_PAGE, an unknown code name, since or until not a valid Timestamp
    or before 1970, since after until)."""
    bad: list[FieldViolation] = page_size_violations(request.page_size, MAX_PAGE)
    code = request.code.strip().upper()
    if code and code not in CODE_NAMES:
        bad.append(FieldViolation("code", "must be a gRPC status code name such as OK or PERMISSION_DENIED"))
    since = _ms(request, "since", bad)
    until = _ms(request, "until", bad)
    bad.extend(time_violations(since, until))
    if since is not None and until is not None and since > until:
        bad.append(FieldViolation("since", "must not be after until"))
    if bad:
        raise InvalidArgumentError(bad)
    return AuditFilters(
        caller=request.caller, method=request.method, code=code, since_ms=since, until_ms=until
    )


def entry_of(record: AuditRecord) -> pb.AuditEntry:
    entry = pb.AuditEntry(
        entry_id=record.entry_id,
        caller=record.caller,
        method=record.method,
        request_id=record.request_id,
        code=record.code,
        request=record.request,
        service=record.service,
        peer=record.peer,
        time=timestamp_pb2.Timestamp(),
        duration=duration_pb2.Duration(),
    )
    entry.time.FromMilliseconds(record.time_ms)
    entry.duration.FromMilliseconds(record.duration_ms)
    return entry


class AuditServicer(pb_grpc.AuditServiceServicer):
    """Reads the audit stream of QUEUE_PREFIX `prefix` with `client`."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    async def ListAuditEntries(
        self, request: pb.ListAuditEntriesRequest, context: Ctx
    ) -> pb.ListAuditEntriesResponse:
        filters = filters_of(request)
        records, token = await read_audit(
            self.client, self.prefix, filters, request.page_size or DEFAULT_PAGE, request.page_token
        )
        return pb.ListAuditEntriesResponse(entries=[entry_of(r) for r in records], next_page_token=token)
