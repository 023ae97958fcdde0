"""Our exceptions cross a real aio gRPC server as rich statuses (service_kit/rich_errors.py).

A small DeadLetterService whose methods raise on purpose runs behind the
same interceptors every jobmesh service uses; a real client then reads the
code, the ErrorInfo and the detail back with grpcio-status.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
import pytest
import redis.exceptions
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from prometheus_client import REGISTRY

from jobmesh.dlq.v1 import dead_letter_service_pb2 as pb
from jobmesh.dlq.v1 import dead_letter_service_pb2_grpc as pb_grpc
from queue_system.errors import (
    DataLossError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
    NotImplementedYetError,
)
from service_kit.rich_errors import INTERNAL_MESSAGE, ErrorInterceptor, to_rich_status
from service_kit.rpc_metrics import MetricsInterceptor
from tests.service_kit.wire import settled

SERVICE = "jobmesh.dlq.v1.DeadLetterService"


class Raising(pb_grpc.DeadLetterServiceServicer):
    """Each method fails in its own way (GetDeadLetterStats succeeds)."""

    async def GetDeadLetterStats(self, request: object, context: object) -> pb.GetDeadLetterStatsResponse:
        return pb.GetDeadLetterStatsResponse()

    async def GetDeadLetter(self, request: object, context: object) -> pb.GetDeadLetterResponse:
        raise InvalidArgumentError([
            FieldViolation("dead_letter_id", "must not be empty"),
            FieldViolation("queue", "unknown queue 'x'"),
        ])

    async def ListDeadLetters(self, request: object, context: object) -> pb.ListDeadLettersResponse:
        raise NotFoundError("queue", "nope")

    async def RetryDeadLetter(self, request: object, context: object) -> pb.RetryDeadLetterResponse:
        raise FailedPreconditionError("dead letter dl-1 was discarded", "STATE", "dead-letters/dl-1")

    async def DiscardDeadLetter(self, request: object, context: object) -> pb.DiscardDeadLetterResponse:
        raise redis.exceptions.ConnectionError("Error 111 connecting to redis://:hunter2@10.0.0.5:6379")

    async def RedriveDeadLetters(self, request: object, context: object) -> pb.RedriveDeadLettersResponse:
        raise RuntimeError("token=hunter2 went wrong")

    async def WatchAlerts(self, request: object, context: object) -> AsyncIterator[pb.WatchAlertsResponse]:
        yield pb.WatchAlertsResponse(resume_token="first")
        raise NotFoundError("alert stream", "dlq")


@pytest.fixture
async def stub() -> AsyncIterator[pb_grpc.DeadLetterServiceStub]:
    server = grpc.aio.server(interceptors=[MetricsInterceptor(), ErrorInterceptor()])
    pb_grpc.add_DeadLetterServiceServicer_to_server(Raising(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield pb_grpc.DeadLetterServiceStub(channel)
    await server.stop(None)


async def _status(call: grpc.aio.Call) -> status_pb2.Status:
    status = await rpc_status.aio.from_call(call)
    assert status is not None, "no google.rpc.Status in the trailers"
    return status


def _unpack(status: status_pb2.Status) -> dict[str, object]:
    """type name -> unpacked detail message."""
    found: dict[str, object] = {}
    for detail in status.details:
        for cls in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest, error_details_pb2.ResourceInfo,
                    error_details_pb2.PreconditionFailure, error_details_pb2.RetryInfo):
            msg = cls()
            if detail.Unpack(msg):
                found[cls.__name__] = msg
    return found


def _handled(method: str, code: str) -> float:
    value = REGISTRY.get_sample_value(
        "grpc_server_handled_total",
        {"grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": method, "grpc_code": code},
    )
    return value or 0.0


async def test_invalid_argument_carries_bad_request_and_error_info(
    stub: pb_grpc.DeadLetterServiceStub,
) -> None:
    before = _handled("GetDeadLetter", "INVALID_ARGUMENT")
    call = stub.GetDeadLetter(pb.GetDeadLetterRequest())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = _unpack(await _status(call))
    info = details["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert (info.reason, info.domain) == ("INVALID_ARGUMENT", "jobmesh")
    assert info.metadata["method"] == f"/{SERVICE}/GetDeadLetter"
    bad = details["BadRequest"]
    assert isinstance(bad, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("dead_letter_id", "must not be empty"),
        ("queue", "unknown queue 'x'"),
    ]
    # the metrics interceptor records the code the client got, after translation
    # (a moment after the client got it: context.abort sends the status, then raises)
    assert await settled(lambda: _handled("GetDeadLetter", "INVALID_ARGUMENT") == before + 1)


async def test_not_found_carries_resource_info(stub: pb_grpc.DeadLetterServiceStub) -> None:
    call = stub.ListDeadLetters(pb.ListDeadLettersRequest())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    resource = _unpack(await _status(call))["ResourceInfo"]
    assert isinstance(resource, error_details_pb2.ResourceInfo)
    assert (resource.resource_type, resource.resource_name) == ("queue", "nope")


async def test_failed_precondition_carries_the_violation(stub: pb_grpc.DeadLetterServiceStub) -> None:
    call = stub.RetryDeadLetter(pb.RetryDeadLetterRequest())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    failure = _unpack(await _status(call))["PreconditionFailure"]
    assert isinstance(failure, error_details_pb2.PreconditionFailure)
    assert [(v.type, v.subject) for v in failure.violations] == [("STATE", "dead-letters/dl-1")]


async def test_redis_down_is_unavailable_with_retry_info_and_no_secret(
    stub: pb_grpc.DeadLetterServiceStub,
) -> None:
    call = stub.DiscardDeadLetter(pb.DiscardDeadLetterRequest())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    status = await _status(call)
    assert "hunter2" not in status.message
    details = _unpack(status)
    retry = details["RetryInfo"]
    assert isinstance(retry, error_details_pb2.RetryInfo)
    assert retry.retry_delay.seconds >= 1
    info = details["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert info.reason == "REDIS_UNAVAILABLE"


async def test_unexpected_errors_are_internal_and_generic_but_logged(
    stub: pb_grpc.DeadLetterServiceStub, caplog: pytest.LogCaptureFixture
) -> None:
    call = stub.RedriveDeadLetters(pb.RedriveDeadLettersRequest())
    with (
        caplog.at_level(logging.ERROR, logger="service_kit.rich_errors"),
        pytest.raises(grpc.aio.AioRpcError) as err,
    ):
        await call
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert err.value.details() == INTERNAL_MESSAGE
    assert "hunter2" not in str(err.value.trailing_metadata())
    assert any(r.exc_info and "RedriveDeadLetters" in r.getMessage() for r in caplog.records)


async def test_server_streaming_errors_arrive_after_the_messages_sent(
    stub: pb_grpc.DeadLetterServiceStub,
) -> None:
    call = stub.WatchAlerts(pb.WatchAlertsRequest())
    received = []
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for reply in call:
            received.append(reply.resume_token)
    assert received == ["first"]
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert "ResourceInfo" in _unpack(await _status(call))


async def test_success_passes_through(stub: pb_grpc.DeadLetterServiceStub) -> None:
    assert await stub.GetDeadLetterStats(pb.GetDeadLetterStatsRequest()) == pb.GetDeadLetterStatsResponse()


def test_every_error_class_maps_to_its_code() -> None:
    cases = {
        InvalidArgumentError([FieldViolation("a", "b")]): grpc.StatusCode.INVALID_ARGUMENT,
        NotFoundError("job", "j1"): grpc.StatusCode.NOT_FOUND,
        FailedPreconditionError("paused"): grpc.StatusCode.FAILED_PRECONDITION,
        NotImplementedYetError("later"): grpc.StatusCode.UNIMPLEMENTED,
        DataLossError("changed", "report", "r1"): grpc.StatusCode.DATA_LOSS,
        redis.exceptions.TimeoutError("slow"): grpc.StatusCode.UNAVAILABLE,
        ValueError("boom"): grpc.StatusCode.INTERNAL,
    }
    for exc, code in cases.items():
        status = to_rich_status(exc)
        assert status.code == code.value[0], exc
        info = error_details_pb2.ErrorInfo()
        assert status.details[0].Unpack(info) and info.domain == "jobmesh"
