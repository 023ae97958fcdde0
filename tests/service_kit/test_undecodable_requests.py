"""A request whose bytes do not decode is INVALID_ARGUMENT, on every service and every RPC.

grpc.aio decodes a request before any interceptor's behaviour runs; left to
itself it answers UNKNOWN with an internal class name and logs a traceback. A
real aio server with the production interceptors (and every service of the
contract, plus health and reflection) is sent raw bytes: invalid UTF-8 in a
string field, truncated bytes, garbage, a google.protobuf.Struct nested past
what the protobuf decoder accepts. Each must answer INVALID_ARGUMENT with a
message naming the request type, ErrorInfo(jobmesh, UNDECODABLE_REQUEST), a
BadRequest on "request", be counted as INVALID_ARGUMENT by the metrics, and log
at most one DEBUG/INFO line without a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, MethodDescriptor
from google.protobuf.message import DecodeError
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import REGISTRY

from jobmesh.queue.v1 import queue_service_pb2
from jobmesh.trading.v1 import trading_service_pb2
from service_kit.handlers import Undecodable, decode_reason
from service_kit.rich_errors import UndecodableRequestError
from tests.service_kit.wire import (
    BAD_UTF8,
    GARBAGE,
    SERVICES,
    TRUNCATED,
    Answer,
    assert_undecodable,
    call_raw,
    deep_struct,
    delimited,
    first_string_field,
    methods,
    nested,
    serve_with_kit,
    settled,
    unimplemented_servicers,
)

# Structs nested this deep exceed the decoder's limit of 100 message levels (3 per Struct level).
TOO_DEEP_FOR_THE_DECODER = 120
HEALTH = health_pb2.DESCRIPTOR.services_by_name["Health"]


@pytest.fixture
async def channel() -> AsyncIterator[grpc.aio.Channel]:
    def add_health(server: grpc.aio.Server) -> None:
        health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)

    def add_reflection(server: grpc.aio.Server) -> None:
        names = [s.full_name for s in SERVICES] + [HEALTH.full_name, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, server)

    server, port = await serve_with_kit([*unimplemented_servicers(), add_health, add_reflection])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    await server.stop(None)


def bad_requests(request: Descriptor) -> Iterator[tuple[str, bytes, str]]:
    """(case, bytes, what the message must say) for every way `request` can fail to decode."""
    yield "truncated", TRUNCATED, "not a valid protobuf encoding"
    yield "garbage", GARBAGE, "not a valid protobuf encoding"
    name = first_string_field(request)
    if name is not None:
        yield f"bad-utf8-{name}", nested(request, [name], BAD_UTF8), "invalid UTF-8"


DEEP: dict[str, list[str]] = {
    # a Struct field of the request itself, and one inside a job
    "jobmesh.trading.v1.DeployStrategyRequest": ["parameters"],
    "jobmesh.queue.v1.EnqueueJobRequest": ["payload", "strategy_execution", "parameters"],
}


def cases() -> Iterator[tuple[MethodDescriptor, str, bytes, str]]:
    for _, method in [*methods(), *((HEALTH, m) for m in HEALTH.methods)]:
        for case, data, says in bad_requests(method.input_type):
            yield method, case, data, says
        if method.input_type.full_name in DEEP:
            data = nested(method.input_type, DEEP[method.input_type.full_name],
                          deep_struct(TOO_DEEP_FOR_THE_DECODER))
            yield method, "deep-struct", data, "nest deeper than the protobuf decoder allows"


def _rpc_type(method: MethodDescriptor) -> str:
    return "server_stream" if method.server_streaming else "unary"


def _handled(method: MethodDescriptor, code: str) -> float:
    value = REGISTRY.get_sample_value(
        "grpc_server_handled_total",
        {
            "grpc_type": _rpc_type(method),
            "grpc_service": method.containing_service.full_name,
            "grpc_method": method.name,
            "grpc_code": code,
        },
    )
    return value or 0.0


def _grpc_chatter(record: logging.LogRecord) -> bool:
    """grpc's own DEBUG lines about its event loop, on the client side too."""
    return record.name.startswith("grpc._cython") and "Loaded running loop" in record.getMessage()


async def test_every_rpc_answers_undecodable_bytes_with_invalid_argument(
    channel: grpc.aio.Channel, caplog: pytest.LogCaptureFixture
) -> None:
    checked = 0
    for method, case, data, says in cases():
        before = {code: _handled(method, code) for code in ("INVALID_ARGUMENT", "UNKNOWN")}
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            answer = await call_raw(channel, method, data)
        where = f"{method.full_name} [{case}]"
        try:
            assert_undecodable(answer, method.input_type.full_name, says)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from exc
        assert await settled(
            lambda: _handled(method, "INVALID_ARGUMENT") == before["INVALID_ARGUMENT"] + 1  # noqa: B023
        ), where
        assert _handled(method, "UNKNOWN") == before["UNKNOWN"], where
        for record in caplog.records:
            assert record.levelno <= logging.INFO, (where, record.getMessage())
            assert record.exc_info is None and record.exc_text is None, (where, record.getMessage())
        logged = [r for r in caplog.records if not _grpc_chatter(r)]
        assert len(logged) <= 1, (where, [r.getMessage() for r in logged])
        checked += 1
    # every RPC of the four services and of health: at least two ways each
    assert checked >= 2 * (sum(len(s.methods) for s in SERVICES) + len(HEALTH.methods))


async def test_a_request_stream_refuses_a_message_that_does_not_decode(
    channel: grpc.aio.Channel,
) -> None:
    """The bidi reflection stream: the bad message ends the call as INVALID_ARGUMENT, not UNKNOWN."""
    call = channel.stream_stream(f"/{reflection.SERVICE_NAME}/ServerReflectionInfo")(iter([TRUNCATED]))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in call:
            pass
    assert_undecodable(
        Answer.of(err.value), "grpc.reflection.v1alpha.ServerReflectionRequest", "not a valid protobuf"
    )


async def test_good_bytes_still_reach_the_servicer(channel: grpc.aio.Channel) -> None:
    """The tolerant deserializer changes nothing for bytes that decode (here: UNIMPLEMENTED)."""
    method = trading_service_pb2.DESCRIPTOR.services_by_name["TradingService"].methods_by_name[
        "GetSystemStatus"
    ]
    answer = await call_raw(channel, method, b"")
    assert answer is not None and answer.code == grpc.StatusCode.UNIMPLEMENTED
    reply = await channel.unary_unary(f"/{HEALTH.full_name}/Check")(
        health_pb2.HealthCheckRequest().SerializeToString(), timeout=5
    )
    assert health_pb2.HealthCheckResponse.FromString(reply).status == health_pb2.HealthCheckResponse.SERVING


def test_the_reason_says_what_is_wrong_in_words() -> None:
    request = queue_service_pb2.EnqueueJobRequest
    for data, says in (
        (TRUNCATED, "the bytes are not a valid protobuf encoding (corrupt or truncated)"),
        (delimited(2, BAD_UTF8), "a string field holds invalid UTF-8"),
    ):
        with pytest.raises(DecodeError) as err:
            request.FromString(data)
        assert decode_reason(err.value) == says
    assert decode_reason(ValueError("")) == "ValueError"
    assert decode_reason(ValueError("Truncated message.")) == "Truncated message"  # pure-python protobuf


def test_the_error_is_an_invalid_argument_with_a_stable_reason() -> None:
    exc = UndecodableRequestError(Undecodable("jobmesh.queue.v1.GetJobRequest", "why"))
    assert str(exc) == "the request does not decode as jobmesh.queue.v1.GetJobRequest: why"
    assert exc.reason == "UNDECODABLE_REQUEST"
    assert [(v.field, v.description) for v in exc.violations] == [
        ("request", "does not decode as jobmesh.queue.v1.GetJobRequest: why")
    ]
