"""Requests as raw bytes, for what no stub would send, and the rich status read back.

Shared by the kit's tests and the mesh's: a test server with the production
interceptors (`serve_with_kit`), the contract's services and methods
(`SERVICES`, `methods`), bytes that do not decode, and helpers that read the
code, ErrorInfo and BadRequest of a failed call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor, MethodDescriptor, ServiceDescriptor
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from jobmesh.auth.v1 import audit_service_pb2, audit_service_pb2_grpc
from jobmesh.dlq.v1 import dead_letter_service_pb2, dead_letter_service_pb2_grpc
from jobmesh.financial.v1 import financial_service_pb2, financial_service_pb2_grpc
from jobmesh.queue.v1 import queue_service_pb2, queue_service_pb2_grpc
from jobmesh.trading.v1 import trading_service_pb2, trading_service_pb2_grpc
from jobmesh.worker.v1 import worker_service_pb2, worker_service_pb2_grpc
from service_kit.rich_errors import ErrorInterceptor
from service_kit.rpc_metrics import MetricsInterceptor

# Every service of the contract: (generated module, generated grpc module, service name).
CONTRACT: tuple[tuple[ModuleType, ModuleType, str], ...] = (
    (queue_service_pb2, queue_service_pb2_grpc, "QueueService"),
    (trading_service_pb2, trading_service_pb2_grpc, "TradingService"),
    (worker_service_pb2, worker_service_pb2_grpc, "WorkerService"),
    (dead_letter_service_pb2, dead_letter_service_pb2_grpc, "DeadLetterService"),
    (financial_service_pb2, financial_service_pb2_grpc, "FinancialService"),
    (audit_service_pb2, audit_service_pb2_grpc, "AuditService"),
)
SERVICES: tuple[ServiceDescriptor, ...] = tuple(
    pb2.DESCRIPTOR.services_by_name[name] for pb2, _, name in CONTRACT
)


def methods() -> Iterator[tuple[ServiceDescriptor, MethodDescriptor]]:
    """Every RPC of every service of the contract."""
    for service in SERVICES:
        for method in service.methods:
            yield service, method


def path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def unimplemented_servicers() -> list[Callable[[grpc.aio.Server], None]]:
    """Adders of each contract service's generated base servicer (every RPC: UNIMPLEMENTED)."""
    adders = []
    for _, pb2_grpc, name in CONTRACT:
        base = getattr(pb2_grpc, f"{name}Servicer")
        add = getattr(pb2_grpc, f"add_{name}Servicer_to_server")
        adders.append(lambda server, base=base, add=add: add(base(), server))
    return adders


async def serve_with_kit(adders: Sequence[Callable[[grpc.aio.Server], None]]) -> tuple[grpc.aio.Server, int]:
    """A started aio server with the interceptors every jobmesh service runs, in their order."""
    server = grpc.aio.server(interceptors=[MetricsInterceptor(), ErrorInterceptor()])
    for add in adders:
        add(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


# --- bytes -------------------------------------------------------------------------------------


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def delimited(number: int, payload: bytes) -> bytes:
    """One length-delimited field (string, bytes or message) on the wire."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def nested(descriptor: Descriptor, names: Sequence[str], leaf: bytes) -> bytes:
    """A `descriptor` message whose field path `names` (message fields, then the last one) holds `leaf`."""
    field = descriptor.fields_by_name[names[0]]
    if len(names) == 1:
        return delimited(field.number, leaf)
    return delimited(field.number, nested(field.message_type, names[1:], leaf))


def deep_struct(levels: int) -> bytes:
    """A google.protobuf.Struct with `levels` Structs inside each other: {"a": {"a": ... {}}}."""
    struct = b""
    for _ in range(levels - 1):
        value = delimited(5, struct)  # Value.struct_value
        entry = delimited(1, b"a") + delimited(2, value)  # FieldsEntry: key, value
        struct = delimited(1, entry)  # Struct.fields
    return struct


# Truncated: field 1 announces 5 bytes and 2 follow.
TRUNCATED = delimited(1, b"abcde")[:4]
# Not protobuf at all: a tag of field number 0.
GARBAGE = b"\x00\xff\xff\xff"
BAD_UTF8 = b"\xff\xfe jobmesh \xc3\x28"


def first_string_field(descriptor: Descriptor, *, singular: bool = False) -> str | None:
    for field in descriptor.fields:
        if field.type == field.TYPE_STRING and not (singular and field.is_repeated):
            return str(field.name)
    return None


# --- the answer --------------------------------------------------------------------------------


@dataclass
class Answer:
    """A failed call as the client sees it: code, message, ErrorInfo and BadRequest fields."""

    code: grpc.StatusCode
    message: str
    info: error_details_pb2.ErrorInfo | None
    bad_fields: dict[str, str]

    @classmethod
    def of(cls, error: grpc.RpcError) -> Answer:
        err: Any = error
        status: status_pb2.Status | None = rpc_status.from_call(err)
        info, bad = None, {}
        for detail in status.details if status is not None else ():
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                request = error_details_pb2.BadRequest()
                detail.Unpack(request)
                bad = {v.field: v.description for v in request.field_violations}
        return cls(err.code(), err.details() or "", info, bad)

    @property
    def reason(self) -> str:
        return f"{self.info.domain}/{self.info.reason}" if self.info is not None else "(no ErrorInfo)"


def assert_undecodable(answer: Answer | None, type_name: str, says: str) -> None:
    assert answer is not None, "the call succeeded"
    assert answer.code == grpc.StatusCode.INVALID_ARGUMENT, (answer.code, answer.message)
    assert answer.message.startswith(f"the request does not decode as {type_name}: "), answer.message
    assert says in answer.message, answer.message
    assert answer.info is not None, "no ErrorInfo"
    assert (answer.info.domain, answer.info.reason) == ("jobmesh", "UNDECODABLE_REQUEST")
    assert list(answer.bad_fields) == ["request"], answer.bad_fields
    assert type_name in answer.bad_fields["request"]


async def call_raw(channel: grpc.aio.Channel, method: MethodDescriptor, data: bytes) -> Answer | None:
    """Send `data` as the request of `method`; the answer if the call fails, None if it succeeds."""
    try:
        if method.server_streaming:
            async for _ in channel.unary_stream(path(method))(data, timeout=10):
                break
        else:
            await channel.unary_unary(path(method))(data, timeout=10)
    except grpc.RpcError as exc:
        return Answer.of(exc)
    return None


def call_raw_sync(channel: grpc.Channel, method: MethodDescriptor, data: bytes) -> Answer | None:
    """`call_raw` on a blocking channel (the mesh's processes)."""
    try:
        if method.server_streaming:
            for _ in channel.unary_stream(path(method))(data, timeout=10):
                break
        else:
            channel.unary_unary(path(method))(data, timeout=10)
    except grpc.RpcError as exc:
        return Answer.of(exc)
    return None


async def settled(check: Callable[[], bool], within: float = 5.0) -> bool:
    """Whether `check` holds within `within` seconds.

    A server's metrics interceptor records a call's code just after the status
    went out (context.abort sends it, then raises through the interceptors), so
    a client that reads the metric at once may be a moment early.
    """
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True
