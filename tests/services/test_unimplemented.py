"""RPCs whose behaviour belongs to a later issue say so: UNIMPLEMENTED, ErrorInfo, and what is missing.

Every method of every served service is called over the wire with an empty
request (raw bytes, no stubs), on a mesh of the test's own. A method that is
built answers a real answer or a clear refusal (never INTERNAL or UNKNOWN)
and is left to its own tests; one that is not must answer UNIMPLEMENTED with
ErrorInfo(reason NOT_IMPLEMENTED, domain jobmesh) and a message naming the
missing piece, never grpc's bare "Method not implemented!".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import grpc
import pytest
from google.protobuf import descriptor_pool
from google.rpc import error_details_pb2, status_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_status import rpc_status

from tests.service_processes import SERVED, ServiceProcess, serving_mesh


def _call(channel: grpc.Channel, path: str, server_streaming: bool) -> grpc.RpcError | None:
    identity = bytes
    try:
        if server_streaming:
            for _ in channel.unary_stream(path, identity, identity)(b"", timeout=2):
                break
        else:
            channel.unary_unary(path, identity, identity)(b"", timeout=2)
    except grpc.RpcError as exc:
        return exc
    return None


@pytest.fixture(scope="module")
def own_mesh(redis_url: str) -> Iterator[dict[str, ServiceProcess]]:
    """A mesh of this module's own: an empty PauseQueues pauses its queues, nobody else's."""
    with serving_mesh(redis_url) as services:
        yield services


# What a built method may answer an empty request: a real answer or a clear refusal.
ANSWERS: Final = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.DEADLINE_EXCEEDED,  # a watch that sent nothing within the call's deadline
}


@pytest.mark.parametrize("module", sorted(SERVED))
def test_unbuilt_rpcs_answer_unimplemented_with_error_info_and_none_fails_inside(
    module: str, own_mesh: dict[str, ServiceProcess]
) -> None:
    channel = own_mesh[module].channel
    pool = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(channel))
    unbuilt = []
    for name in sorted(SERVED[module]):
        for method in pool.FindServiceByName(name).methods:
            error = _call(channel, f"/{name}/{method.name}", method.server_streaming)
            code = grpc.StatusCode.OK if error is None else error.code()  # type: ignore[attr-defined]
            if code != grpc.StatusCode.UNIMPLEMENTED:
                assert code in ANSWERS, f"{name}/{method.name} answered {code.name}: {error}"
                continue
            unbuilt.append(method.name)
            status: status_pb2.Status | None = rpc_status.from_call(error)  # type: ignore[arg-type]
            assert status is not None, f"{name}/{method.name}: bare UNIMPLEMENTED without details"
            assert f"{name.rpartition('.')[2]}.{method.name}: " in status.message
            assert "is not built yet" in status.message
            info = error_details_pb2.ErrorInfo()
            assert status.details[0].Unpack(info)
            assert (info.reason, info.domain) == ("NOT_IMPLEMENTED", "jobmesh")
    print(f"{module}: not built yet: {', '.join(unbuilt) or 'nothing'}")
