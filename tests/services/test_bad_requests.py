"""The real services refuse requests that do not decode, or carry a field over its bound.

Every RPC of every service the four processes serve (health included) is sent
truncated bytes and, where its request has a string field, invalid UTF-8 in
it: each answers INVALID_ARGUMENT with ErrorInfo(jobmesh, UNDECODABLE_REQUEST)
and a BadRequest on "request", the service's /metrics counts it under
grpc_code INVALID_ARGUMENT, and its log holds no traceback. Every RPC whose
request has a (singular) string field is then sent that field one character
over its bound: INVALID_ARGUMENT naming the field.
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import message_factory
from grpc_health.v1 import health_pb2

from service_kit import bounds
from tests.service_kit.wire import (
    BAD_UTF8,
    SERVICES,
    TRUNCATED,
    assert_undecodable,
    call_raw_sync,
    first_string_field,
    nested,
)
from tests.service_processes import SERVED, ServiceProcess, eventually, samples

HEALTH = health_pb2.DESCRIPTOR.services_by_name["Health"]


def _invalid_argument_counts(svc: ServiceProcess) -> dict[str, float]:
    """grpc_server_handled_total{grpc_code="INVALID_ARGUMENT"} by "service/method"."""
    counts: dict[str, float] = {}
    for labels, value in samples(svc.metrics_url, "grpc_server_handled_total").items():
        label = dict(labels)
        if label["grpc_code"] == "INVALID_ARGUMENT":
            counts[f"{label['grpc_service']}/{label['grpc_method']}"] = value
    return counts


@pytest.mark.parametrize("module", sorted(SERVED))
def test_every_rpc_of_every_service_refuses_bad_requests(
    module: str, mesh_services: dict[str, ServiceProcess]
) -> None:
    svc = mesh_services[module]
    served = [s for s in SERVICES if s.full_name in SERVED[module]] + [HEALTH]
    assert {s.full_name for s in served} == SERVED[module] | {HEALTH.full_name}
    before = _invalid_argument_counts(svc)
    sent: dict[str, int] = {}
    for service in served:
        for method in service.methods:
            key = f"{service.full_name}/{method.name}"
            request = method.input_type
            name = first_string_field(request)
            undecodable = [(TRUNCATED, "not a valid protobuf encoding")]
            if name is not None:
                undecodable.append((nested(request, [name], BAD_UTF8), "invalid UTF-8"))
            for data, says in undecodable:
                answer = call_raw_sync(svc.channel, method, data)
                try:
                    assert_undecodable(answer, request.full_name, says)
                except AssertionError as exc:
                    raise AssertionError(f"{module} {key}: {exc}") from exc
                sent[key] = sent.get(key, 0) + 1
            name = first_string_field(request, singular=True)
            if name is None:
                continue
            field = request.fields_by_name[name]
            over = message_factory.GetMessageClass(request)(**{name: "x" * (bounds.value_bound(field) + 1)})
            answer = call_raw_sync(svc.channel, method, over.SerializeToString())
            assert answer is not None and answer.code == grpc.StatusCode.INVALID_ARGUMENT, (key, answer)
            assert name in answer.bad_fields, (key, answer.bad_fields)
            assert answer.info is not None and answer.info.domain == "jobmesh"
            sent[key] += 1

    def counted() -> bool:  # the last call's code is recorded a moment after its status went out
        after = _invalid_argument_counts(svc)
        return all(after.get(key, 0) - before.get(key, 0) == count for key, count in sent.items())

    eventually(counted, within=5)
    log = svc.log()
    assert "Traceback" not in log, log
    assert "DecodeError" not in log, log
    assert svc.alive()
