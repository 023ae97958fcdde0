"""AuditService on a real server: the audit trail read back over the wire, by admins only.

A worker service runs in the test's loop with the production server runner (which
adds AuditService to whatever the service serves), on the shared Redis under the
test's prefix: state-changing calls are made, then read back with filters and
paging; bad requests are INVALID_ARGUMENT naming their field; and without auth
the RPC is served and answers what the stream holds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from google.protobuf import timestamp_pb2

from jobmesh.auth.v1 import audit_service_pb2 as apb
from jobmesh.auth.v1 import audit_service_pb2_grpc as apb_grpc
from jobmesh.worker.v1 import worker_service_pb2 as pb
from jobmesh.worker.v1 import worker_service_pb2_grpc as pb_grpc
from queue_system.catalog import TRADING_QUEUES
from queue_system.keys import AuditField, audit_stream
from queue_system.tokens import encode_token
from service_kit.auth import credential_line, new_token, side_effect_free
from service_kit.server import ServedService, Service, ServiceContext
from service_kit.settings import SERVICE_BY_MODULE, ServiceSettings, load_security
from service_kit.worker_service import WorkerRole, build_worker
from tests.service_kit.wire import SERVICES, Answer
from tests.service_processes import free_port

SPEC = SERVICE_BY_MODULE["worker_trading"]
TOKENS = {"viewer": new_token(), "operator": new_token(), "admin": new_token()}
PAUSE = "/jobmesh.worker.v1.WorkerService/PauseQueues"
LIST = "/jobmesh.auth.v1.AuditService/ListAuditEntries"


def _bearer(role: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[role]}"),)


def _build(context: ServiceContext) -> list[ServedService]:
    return list(build_worker(context, WorkerRole(queues=TRADING_QUEUES)))


async def _start(make_settings: Callable[..., Any], env: dict[str, str]) -> Service:
    settings = ServiceSettings(
        runtime=make_settings(),
        grpc_ports={SPEC.module: free_port()},
        metrics_ports={SPEC.module: free_port()},
        security=load_security(env.get, "127.0.0.1"),
    )
    service = Service(SPEC, settings, _build)
    await service.start()
    return service


Stubs = tuple[pb_grpc.WorkerServiceStub, apb_grpc.AuditServiceStub]


@pytest.fixture
async def secured(make_settings: Callable[..., Any]) -> AsyncIterator[Stubs]:
    """Bearer tokens for a viewer, an operator and an admin, over plaintext loopback."""
    text = "\n".join(credential_line(f"{role}-bot", [role], token) for role, token in TOKENS.items())
    service = await _start(make_settings, {"JOBMESH_AUTH_TOKENS": text})
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.grpc_port}")
    try:
        yield pb_grpc.WorkerServiceStub(channel), apb_grpc.AuditServiceStub(channel)
    finally:
        await channel.close()
        await service.stop()


@pytest.fixture
async def open_service(make_settings: Callable[..., Any]) -> AsyncIterator[apb_grpc.AuditServiceStub]:
    """No credentials configured: loopback only, nothing authenticated or audited."""
    service = await _start(make_settings, {})
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.grpc_port}")
    try:
        yield apb_grpc.AuditServiceStub(channel)
    finally:
        await channel.close()
        await service.stop()


async def _failure(call: Any) -> Answer:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return Answer.of(caught.value)


def _stamp(ms: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMilliseconds(ms)
    return stamp


async def test_an_admin_reads_back_who_did_what_newest_first_with_every_field(secured: Stubs) -> None:
    worker, audit = secured
    start_ms = int(time.time() * 1000)
    await worker.PauseQueues(pb.PauseQueuesRequest(request_id="a-1"), metadata=_bearer("operator"))
    await _failure(worker.PauseQueues(pb.PauseQueuesRequest(request_id="a-2"), metadata=_bearer("viewer")))
    await _failure(worker.PauseQueues(pb.PauseQueuesRequest(request_id="a-3")))
    await worker.ResumeQueues(pb.ResumeQueuesRequest(request_id="a-4"), metadata=_bearer("admin"))

    listed = await audit.ListAuditEntries(apb.ListAuditEntriesRequest(), metadata=_bearer("admin"))
    got = [(e.caller, e.method.rpartition("/")[2], e.request_id, e.code) for e in listed.entries]
    assert got == [
        ("admin-bot", "ResumeQueues", "a-4", "OK"),
        ("", "PauseQueues", "a-3", "UNAUTHENTICATED"),
        ("viewer-bot", "PauseQueues", "a-2", "PERMISSION_DENIED"),
        ("operator-bot", "PauseQueues", "a-1", "OK"),
    ]
    assert listed.next_page_token == ""
    first = listed.entries[-1]
    assert first.method == PAUSE and json.loads(first.request) == {"requestId": "a-1"}
    assert first.service == "worker-trading" and first.peer
    assert first.time.ToMilliseconds() >= start_ms and first.duration.ToMilliseconds() >= 0
    assert first.entry_id.startswith(f"{first.time.ToMilliseconds()}-")

    # who read the trail is in the trail
    again = await audit.ListAuditEntries(apb.ListAuditEntriesRequest(page_size=1), metadata=_bearer("admin"))
    assert [(e.caller, e.method, e.code) for e in again.entries] == [("admin-bot", LIST, "OK")]


async def test_filters_and_pages_over_the_wire(secured: Stubs) -> None:
    worker, audit = secured
    for i in range(5):
        await worker.PauseQueues(pb.PauseQueuesRequest(request_id=f"p-{i}"), metadata=_bearer("operator"))
        denied = pb.PauseQueuesRequest(request_id=f"d-{i}")
        await _failure(worker.PauseQueues(denied, metadata=_bearer("viewer")))
        await asyncio.sleep(0.002)  # each round in a millisecond of its own: the time window below

    async def all_pages(request: apb.ListAuditEntriesRequest) -> list[apb.AuditEntry]:
        entries: list[apb.AuditEntry] = []
        while True:
            page = await audit.ListAuditEntries(request, metadata=_bearer("admin"))
            assert len(page.entries) <= (request.page_size or 50)
            entries.extend(page.entries)
            if not page.next_page_token:
                return entries
            request.page_token = page.next_page_token

    by_operator = await all_pages(apb.ListAuditEntriesRequest(caller="operator-bot", page_size=2))
    assert [e.request_id for e in by_operator] == [f"p-{i}" for i in reversed(range(5))]
    denied = await all_pages(apb.ListAuditEntriesRequest(code="permission_denied", method="PauseQueues"))
    assert [e.request_id for e in denied] == [f"d-{i}" for i in reversed(range(5))]
    full = await all_pages(apb.ListAuditEntriesRequest(method=PAUSE, page_size=3))
    assert len(full) == 10 and len({e.entry_id for e in full}) == 10

    # a time window: from the third pause (inclusive) to the fourth (exclusive)
    p2, p3 = (next(e for e in by_operator if e.request_id == r) for r in ("p-2", "p-3"))
    window = await all_pages(apb.ListAuditEntriesRequest(
        method=PAUSE, since=p2.time, until=_stamp(p3.time.ToMilliseconds())
    ))
    ids = [e.request_id for e in window]
    assert "p-2" in ids and "p-3" not in ids and "p-1" not in ids
    assert all(p2.time.ToMilliseconds() <= e.time.ToMilliseconds() < p3.time.ToMilliseconds() for e in window)


async def test_only_admins_read_the_trail(secured: Stubs) -> None:
    _, audit = secured
    assert (await _failure(audit.ListAuditEntries(apb.ListAuditEntriesRequest()))).code == (
        grpc.StatusCode.UNAUTHENTICATED
    )
    for role in ("viewer", "operator"):
        denied = await _failure(audit.ListAuditEntries(apb.ListAuditEntriesRequest(), metadata=_bearer(role)))
        assert denied.code == grpc.StatusCode.PERMISSION_DENIED, role
        assert denied.info is not None and denied.info.metadata["required_role"] == "admin"


@pytest.mark.parametrize(
    ("request_fields", "fields"),
    [
        ({"page_size": 501}, {"page_size"}),
        ({"page_size": -1}, {"page_size"}),
        ({"since": _stamp(2000), "until": _stamp(1000)}, {"since"}),
        ({"page_token": "not-a-token"}, {"page_token"}),
        ({"code": "NOT_A_CODE"}, {"code"}),
        ({"code": "nope", "page_size": 1000}, {"code", "page_size"}),
        # before 1970: no stream id is (Redis would have refused "(-5000-0" as INTERNAL)
        ({"until": _stamp(-5000)}, {"until"}),
        ({"since": _stamp(-5000), "until": _stamp(-1000)}, {"since", "until"}),
        ({"since": _stamp(-1)}, {"since"}),
        # not a Timestamp at all (seconds past year 9999; nanos below 0)
        ({"since": timestamp_pb2.Timestamp(seconds=2**62)}, {"since"}),
        ({"until": timestamp_pb2.Timestamp(seconds=1, nanos=-1)}, {"until"}),
        # the token's shape, but an id past 2**64-1 that Redis would refuse
        ({"page_token": encode_token({"before": "99999999999999999999-0"})}, {"page_token"}),
        ({"page_token": encode_token({"before": "5-18446744073709551616"})}, {"page_token"}),
    ],
    ids=[
        "page_size-over", "page_size-negative", "since-after-until", "page_token", "code", "two-fields",
        "until-before-1970", "since-and-until-before-1970", "since-before-1970", "since-not-a-timestamp",
        "until-not-a-timestamp", "page_token-ms-past-u64", "page_token-seq-past-u64",
    ],
)
async def test_a_bad_request_is_invalid_argument_naming_its_fields(
    secured: Stubs,
    redis_client: aioredis.Redis,
    queue_prefix: str,
    request_fields: dict[str, Any],
    fields: set[str],
) -> None:
    _, audit = secured
    answer = await _failure(
        audit.ListAuditEntries(apb.ListAuditEntriesRequest(**request_fields), metadata=_bearer("admin"))
    )
    assert answer.code == grpc.StatusCode.INVALID_ARGUMENT, answer
    assert set(answer.bad_fields) == fields, answer.bad_fields
    assert answer.info is not None and answer.info.domain == "jobmesh"
    # and it is in the trail, even a request JSON cannot carry (a Timestamp past year 9999)
    (_, last), = await redis_client.xrevrange(audit_stream(queue_prefix), count=1)
    recorded = {k.decode(): v.decode() for k, v in last.items()}
    assert (recorded[AuditField.METHOD], recorded[AuditField.CODE]) == (LIST, "INVALID_ARGUMENT")


async def test_without_auth_it_is_served_and_answers_what_the_stream_holds(
    open_service: apb_grpc.AuditServiceStub, redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    assert list((await open_service.ListAuditEntries(apb.ListAuditEntriesRequest())).entries) == []
    fields = {AuditField.CALLER: "someone", AuditField.METHOD: PAUSE, AuditField.CODE: "OK"}
    await redis_client.xadd(audit_stream(queue_prefix), fields)  # type: ignore[arg-type]
    listed = await open_service.ListAuditEntries(apb.ListAuditEntriesRequest(caller="someone"))
    assert [(e.caller, e.method, e.code, e.duration.ToMilliseconds()) for e in listed.entries] == [
        ("someone", PAUSE, "OK", 0)
    ]


def test_only_the_trails_read_is_marked_free_of_side_effects_in_the_contract() -> None:
    assert side_effect_free(s.full_name for s in SERVICES) == {LIST}


async def test_reading_the_trail_is_audited_but_never_spends_the_admins_limit(
    make_settings: Callable[..., Any], redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    """An admin limited to 2 state-changing calls a minute pages through the trail 5 times, and
    may still make its 2 calls (an EmergencyStopAll is never held back by reading); each read is
    in the trail."""
    admin = credential_line("admin-bot", ["admin"], TOKENS["admin"])
    service = await _start(make_settings, {"JOBMESH_AUTH_TOKENS": admin, "JOBMESH_AUTH_RATE_LIMIT": "2/60s"})
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.grpc_port}")
    worker, audit = pb_grpc.WorkerServiceStub(channel), apb_grpc.AuditServiceStub(channel)
    try:
        for _ in range(5):
            await audit.ListAuditEntries(apb.ListAuditEntriesRequest(page_size=1), metadata=_bearer("admin"))
        for n in range(2):
            await worker.ResumeQueues(pb.ResumeQueuesRequest(request_id=f"r-{n}"), metadata=_bearer("admin"))
        over = await _failure(worker.ResumeQueues(pb.ResumeQueuesRequest(), metadata=_bearer("admin")))
        assert over.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        await channel.close()
        await service.stop()
    entries = await redis_client.xrange(audit_stream(queue_prefix))
    methods = [fields[AuditField.METHOD.encode()].decode() for _, fields in entries]
    assert methods.count(LIST) == 5 and methods.count("/jobmesh.worker.v1.WorkerService/ResumeQueues") == 3
