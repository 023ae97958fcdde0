"""Every string, bytes, repeated and map field of every request has a bound, enforced over the wire.

One test walks the descriptors of the request of every RPC of every service,
recursively through message fields, and for each string, bytes, repeated, map
and free-form (Struct/Value/ListValue) field it reaches builds a request with
that one field just over its bound and sends it to a real aio server with the
production interceptors: the answer must be INVALID_ARGUMENT with a BadRequest
violation naming the field by its path in the request. The same request at the
bound must get past the bounds (to the servicer).

Fields inside the job messages (JobPayload, JobOptions, TraceContext) are
bounded by the job validator when a job is added, so on EnqueueJob and
EnqueueJobs they are sent to a real QueueService on Redis and the job
validator's violation must name them; anywhere else the kit must bound them
itself. A field added to any request without a bound fails this test.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory, struct_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from jobmesh.queue.v1 import queue_service_pb2 as pb
from jobmesh.queue.v1 import queue_service_pb2_grpc as pb_grpc
from queue_system.manager import QueueManager
from queue_system.settings import Settings
from queue_system.stream_hub import StreamHub
from queue_system.validation import job_rules, rules
from service_kit import bounds
from tests.service_kit.wire import (
    SERVICES,
    call_raw,
    methods,
    serve_with_kit,
    unimplemented_servicers,
)

# Validated, bounds included, by the job validator when a job is added; only these two RPCs add jobs.
JOB_TYPES = frozenset({
    "jobmesh.jobs.v1.JobPayload",
    "jobmesh.jobs.v1.JobOptions",
    "jobmesh.jobs.v1.TraceContext",
})
JOB_RPCS = frozenset({
    "jobmesh.queue.v1.QueueService.EnqueueJob",
    "jobmesh.queue.v1.QueueService.EnqueueJobs",
})
FREE_FORM = frozenset({"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"})
# What still counts as a bound: anything larger is no bound at all.
CEILING = {"chars": 64 * 1_024, "bytes": 1_024 * 1_024, "entries": 10_000}

Reach = Callable[[Message], Message]  # from the request to the message that holds the field
Fill = Callable[[Message, int], None]  # puts a value of the given size into that message


@dataclass(frozen=True)
class Case:
    """One field over its bound in one RPC's request."""

    method: MethodDescriptor
    expect: str  # the violation's field path
    what: str
    bound: int
    reach: Reach
    fill: Fill
    job: bool = False  # bounded by the job validator (sent to a real QueueService)

    def request(self, size: int) -> bytes:
        request = message_factory.GetMessageClass(self.method.input_type)()
        self.fill(self.reach(request), size)
        return bytes(request.SerializeToString())

    def __str__(self) -> str:
        return f"{self.method.containing_service.name}.{self.method.name} {self.expect} ({self.what})"


# --- values of a given size --------------------------------------------------------------------


def _scalar(f: FieldDescriptor) -> Any:
    if f.type == f.TYPE_STRING:
        return ""
    if f.type == f.TYPE_BYTES:
        return b""
    if f.type == f.TYPE_BOOL:
        return False
    if f.type in (f.TYPE_FLOAT, f.TYPE_DOUBLE):
        return 0.0
    return 0


def _text(f: FieldDescriptor, size: int) -> Any:
    return b"x" * size if f.type == f.TYPE_BYTES else "x" * size


def _key(f: FieldDescriptor, i: int) -> Any:
    return f"k{i}" if f.type == f.TYPE_STRING else i


def _fill_sized(value: Message, size: int) -> None:
    """A free-form value exactly `size` bytes serialized."""

    def put(n: int) -> None:
        value.Clear()
        text = "x" * n
        name = value.DESCRIPTOR.full_name
        if name == "google.protobuf.Struct":
            value["k"] = text  # type: ignore[index]
        elif name == "google.protobuf.ListValue":
            value.values.add().string_value = text  # type: ignore[attr-defined]
        else:
            value.string_value = text  # type: ignore[attr-defined]

    put(0)
    n = size - value.ByteSize()
    put(n)
    while value.ByteSize() > size:
        n -= 1
        put(n)
    assert value.ByteSize() == size, (value.DESCRIPTOR.full_name, size)


def _fill_deep(value: Message, levels: int) -> None:
    """A free-form value with `levels` Structs (lists, for a ListValue) inside each other."""
    name = value.DESCRIPTOR.full_name
    cur: Any = value.struct_value if name == "google.protobuf.Value" else value  # type: ignore[attr-defined]
    for _ in range(levels - 1):
        cur = cur.values.add().list_value if cur.DESCRIPTOR.full_name.endswith("ListValue") else (
            cur.fields["a"].struct_value
        )
    if cur.DESCRIPTOR.full_name.endswith("ListValue"):
        cur.values.add().number_value = 1
    else:
        cur["leaf"] = 1


# --- the bound each field should have ----------------------------------------------------------


def _job_chars(holder: Descriptor, f: FieldDescriptor) -> int:
    """The job validator's bound on a string or bytes field of a job message."""
    cls = message_factory.GetMessageClass(holder)
    for rule in job_rules.JOB_RULES.rules.get(cls, ()):
        if rule.field == f.name and isinstance(rule, rules.Text):
            return rule.max_chars
        if rule.field == f.name and isinstance(rule, rules.Bytes):
            return rule.max_bytes
    if (holder.full_name, f.name) == ("jobmesh.jobs.v1.JobOptions", "job_id"):
        return job_rules.MAX_JOB_ID_CHARS
    return rules.MAX_STRING_CHARS


def _kit_bound(f: FieldDescriptor, kind: str) -> int:
    bound = bounds.entries_bound(f) if kind == "entries" else bounds.value_bound(f)
    assert 0 < bound <= CEILING[kind], f"{f.full_name}: {bound} {kind} is no bound"
    return bound


# --- the walk ----------------------------------------------------------------------------------


def _at(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def cases_of(method: MethodDescriptor) -> Iterator[Case]:
    """A case per bounded thing (value size, entries, nesting) of every field reachable in the request."""
    job_rpc = method.full_name in JOB_RPCS

    def walk(holder: Descriptor, path: str, reach: Reach, chain: frozenset[str], job: bool) -> Iterator[Case]:
        for f in holder.fields:
            yield from field_cases(f, _at(path, f.name), reach, chain, job)

    def field_cases(
        f: FieldDescriptor, where: str, reach: Reach, chain: frozenset[str], job: bool
    ) -> Iterator[Case]:
        entry = f.message_type
        if entry is not None and f.is_repeated and entry.GetOptions().map_entry:
            kf, vf = entry.fields_by_name["key"], entry.fields_by_name["value"]
            entries = rules.MAX_MAP_ENTRIES if job else _kit_bound(f, "entries")
            if kf.type != kf.TYPE_BOOL:  # a bool-keyed map cannot grow past two entries
                yield Case(method, where, "entries", entries, reach,
                           lambda m, n: _fill_map(m, f, kf, vf, n), job)
            if kf.type == kf.TYPE_STRING:
                chars = rules.MAX_STRING_CHARS if job else _kit_bound(kf, "chars")
                yield Case(method, where, "key chars", chars, reach,
                           lambda m, n: _fill_entry(m, f, vf, "k" * n), job)
            key = _key(kf, 0)
            yield from value_cases(
                vf, f"{where}[{json.dumps(key)}]", reach,
                lambda r: getattr(reach(r), f.name)[key],
                lambda m, v: getattr(m, f.name).__setitem__(key, v), chain=chain, job=job,
            )
        elif f.is_repeated:
            entries = rules.MAX_REPEATED if job else _kit_bound(f, "entries")
            yield Case(method, where, "entries", entries, reach, lambda m, n: _fill_repeated(m, f, n), job)
            yield from value_cases(
                f, f"{where}[0]", reach,
                lambda r: getattr(reach(r), f.name).add(),
                lambda m, v: getattr(m, f.name).append(v), chain=chain, job=job,
            )
        else:
            yield from value_cases(
                f, where, reach,
                lambda r: getattr(reach(r), f.name),
                lambda m, v: setattr(m, f.name, v), chain=chain, job=job,
            )

    def value_cases(
        f: FieldDescriptor, where: str, reach: Reach, inner: Reach,
        put: Callable[[Message, Any], None], *, chain: frozenset[str], job: bool,
    ) -> Iterator[Case]:
        """Cases for one value of `f` at `where` (the field itself, an entry, or a map value).

        `reach` leads to the message holding `f`, `inner` into the value itself (a message).
        """
        sub = f.message_type
        if f.type in (f.TYPE_STRING, f.TYPE_BYTES):
            kind = "bytes" if f.type == f.TYPE_BYTES else "chars"
            bound = _job_chars(f.containing_type, f) if job else _kit_bound(f, kind)
            yield Case(method, where, kind, bound, reach, lambda m, n: put(m, _text(f, n)), job)
        elif sub is not None and sub.full_name in FREE_FORM:
            yield Case(method, where, "serialized bytes", rules.MAX_STRUCT_BYTES, inner, _fill_sized, job)
            # Inside a job the decoder's own limit (100 levels, the job's nesting included) refuses a
            # Struct this deep before the job validator sees it; the validator's depth bound is
            # tested where jobs are added in Python (tests/queue_system/validation).
            if not job:
                yield Case(method, where, "nesting", rules.MAX_STRUCT_DEPTH, inner, _fill_deep, job)
        elif sub is not None and sub.full_name not in chain:
            in_job = job or (job_rpc and sub.full_name in JOB_TYPES)
            yield from walk(sub, where, inner, chain | {sub.full_name}, in_job)

    root = method.input_type
    yield from walk(root, "", lambda r: r, frozenset({root.full_name}), False)


def _fill_repeated(m: Message, f: FieldDescriptor, n: int) -> None:
    values = getattr(m, f.name)
    if f.message_type is not None:
        for _ in range(n):
            values.add()
    else:
        values.extend([_scalar(f)] * n)


def _fill_map(m: Message, f: FieldDescriptor, kf: FieldDescriptor, vf: FieldDescriptor, n: int) -> None:
    entries = getattr(m, f.name)
    for i in range(n):
        if vf.message_type is not None:
            entries[_key(kf, i)].SetInParent()
        else:
            entries[_key(kf, i)] = _scalar(vf)


def _fill_entry(m: Message, f: FieldDescriptor, vf: FieldDescriptor, key: Any) -> None:
    entries = getattr(m, f.name)
    if vf.message_type is not None:
        entries[key].SetInParent()
    else:
        entries[key] = _scalar(vf)


def all_cases() -> list[Case]:
    return [case for _, method in methods() for case in cases_of(method)]


# --- servers -----------------------------------------------------------------------------------


@dataclass
class Servers:
    """The kit in front of every service (servicers that are never reached), and a real QueueService."""

    kit: grpc.aio.Channel
    queue: grpc.aio.Channel
    manager: QueueManager


@pytest.fixture
async def servers(make_settings: Callable[..., Settings], redis_client: object) -> AsyncIterator[Servers]:
    from trading_svc.servicers.queue import QueueServicer  # noqa: PLC0415

    manager = QueueManager(make_settings(), service="trading-svc")
    await manager.initialize()
    hub = StreamHub(manager.client)
    kit_server, kit_port = await serve_with_kit(unimplemented_servicers())
    queue_server, queue_port = await serve_with_kit(
        [lambda server: pb_grpc.add_QueueServiceServicer_to_server(QueueServicer(manager, hub), server)]
    )
    kit = grpc.aio.insecure_channel(f"127.0.0.1:{kit_port}")
    queue = grpc.aio.insecure_channel(f"127.0.0.1:{queue_port}")
    try:
        yield Servers(kit, queue, manager)
    finally:
        await kit.close()
        await queue.close()
        await kit_server.stop(0)
        await queue_server.stop(0)
        await hub.close()
        await manager.close(1)


async def total_jobs(manager: QueueManager) -> int:
    n = 0
    for q in manager.queues:
        c = (await manager.get_queue_stats(q)).counts
        n += c.waiting + c.prioritized + c.delayed + c.paused + c.active + c.completed + c.failed
    return n


# --- the tests ---------------------------------------------------------------------------------


async def test_every_request_field_is_bounded_over_the_wire(servers: Servers) -> None:
    cases = all_cases()
    problems: list[str] = []
    for case in cases:
        channel = servers.queue if case.job else servers.kit
        over = await call_raw(channel, case.method, case.request(case.bound + 1))
        if over is None or over.code != grpc.StatusCode.INVALID_ARGUMENT:
            got = "OK" if over is None else f"{over.code.name}: {over.message}"
            problems.append(f"{case}: {case.bound + 1} accepted ({got})")
            continue
        # too deep for the protobuf decoder itself (its 100-level limit counts the request's own
        # nesting too): refused before any bound is checked, naming the request
        too_deep_to_decode = case.what == "nesting" and "nest deeper than the protobuf decoder" in str(
            over.bad_fields.get("request", "")
        )
        if too_deep_to_decode:
            continue
        if case.expect not in over.bad_fields:
            problems.append(f"{case}: no violation names it: {over.bad_fields}")
            continue
        if over.info is None or over.info.domain != "jobmesh":
            problems.append(f"{case}: no jobmesh ErrorInfo")
        if case.job:
            continue  # other fields of the job are missing too: the job validator names them as well
        if set(over.bad_fields) != {case.expect}:
            problems.append(f"{case}: more violations than the one field: {over.bad_fields}")
        at_bound = await call_raw(channel, case.method, case.request(case.bound))
        if at_bound is None or at_bound.code != grpc.StatusCode.UNIMPLEMENTED:
            got = "OK" if at_bound is None else f"{at_bound.code.name}: {at_bound.message}"
            problems.append(f"{case}: {case.bound} refused, the bound is lower than said ({got})")
    assert not problems, "\n".join(problems)
    assert await total_jobs(servers.manager) == 0

    # the walk reached every RPC's fields, and the job fields through both RPCs that add jobs
    named = {(c.method.full_name, c.expect) for c in cases}
    assert ("jobmesh.queue.v1.QueueService.EnqueueJob", "trace.traceparent") in named
    assert (
        "jobmesh.queue.v1.QueueService.EnqueueJobs", "jobs[0].payload.categorization.transaction_ids"
    ) in named
    assert ("jobmesh.trading.v1.TradingService.DeployStrategy", "risk_limits.max_loss") in named
    assert ("jobmesh.trading.v1.TradingService.DeployStrategy", "parameters") in named
    assert ("jobmesh.worker.v1.WorkerService.PauseQueues", "queues[0]") in named
    assert ("jobmesh.dlq.v1.DeadLetterService.ListDeadLetters", "page_token") in named
    rpcs_with_fields = {m.full_name for _, m in methods() if _has_bounded_fields(m.input_type)}
    assert {c.method.full_name for c in cases} == rpcs_with_fields


def _has_bounded_fields(d: Descriptor) -> bool:
    return any(
        f.is_repeated or f.type in (f.TYPE_STRING, f.TYPE_BYTES)
        or (f.message_type is not None and f.message_type.full_name in FREE_FORM)
        or (f.message_type is not None and _has_bounded_fields(f.message_type))
        for f in d.fields
    )


def test_the_kit_and_this_test_agree_on_what_the_job_validator_bounds() -> None:
    assert bounds.JOB_VALIDATED == JOB_TYPES
    assert bounds.FREE_FORM == FREE_FORM
    # no RPC streams requests (the walk above sends one request per call)
    assert not [m.full_name for _, m in methods() if m.client_streaming]


def test_every_override_names_a_request_field() -> None:
    fields: set[str] = set()
    names: set[str] = set()

    def collect(d: Descriptor, seen: frozenset[str]) -> None:
        for f in d.fields:
            fields.add(f.full_name)
            names.add(f.name)
            sub = f.message_type
            if sub is not None and sub.full_name not in seen:
                collect(sub, seen | {sub.full_name})

    for service in SERVICES:
        for method in service.methods:
            collect(method.input_type, frozenset({method.input_type.full_name}))
    assert set(bounds.BOUND_BY_FIELD) <= fields
    assert set(bounds.ENTRIES_BY_FIELD) <= fields
    assert set(bounds.BOUND_BY_NAME) <= names


async def test_a_3mb_traceparent_is_refused_and_nothing_is_enqueued(servers: Servers) -> None:
    request = pb.EnqueueJobRequest(
        queue="categorization",
        payload=env.JobPayload(
            categorization=fin.CategorizationJob(
                transaction_ids=["tx_1"], method=fin.CATEGORIZATION_METHOD_AI
            )
        ),
        trace=env.TraceContext(traceparent="0" * 3_000_000),
    )
    method = pb.DESCRIPTOR.services_by_name["QueueService"].methods_by_name["EnqueueJob"]
    answer = await call_raw(servers.queue, method, request.SerializeToString())
    assert answer is not None and answer.code == grpc.StatusCode.INVALID_ARGUMENT
    assert answer.info is not None and answer.info.domain == "jobmesh"
    assert "trace.traceparent" in answer.bad_fields, answer.bad_fields
    assert await total_jobs(servers.manager) == 0


def test_the_walk_reports_paths_in_the_requests_own_names() -> None:
    request = pb.EnqueueJobsRequest(request_id="r" * 129, jobs=[pb.JobSpec() for _ in range(5)])
    request.jobs[3].queue = "q" * 1_025
    request.jobs[3].trace.traceparent = "t" * 5_000  # the job validator's business, not the kit's
    assert [(v.field, v.description) for v in bounds.bound_violations(request)] == [
        ("request_id", "is 129 characters long, at most 128 allowed"),
        ("jobs[3].queue", "is 1025 characters long, at most 1024 allowed"),
    ]
    parameters = struct_pb2.Struct()
    parameters["x"] = "y" * 70_000
    from jobmesh.trading.v1 import trading_service_pb2 as tpb  # noqa: PLC0415

    deploy = tpb.DeployStrategyRequest(parameters=parameters)
    assert [v.field for v in bounds.bound_violations(deploy)] == ["parameters"]
    many = pb.RetryJobsRequest(job_ids=["x" * 2_000] * 1_000)
    found = bounds.bound_violations(many)
    assert len(found) == bounds.MAX_REPORTED
    assert found[0].field == "job_ids[0]"
