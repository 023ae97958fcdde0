"""QueueService over the wire: a real aio server (production interceptors) on a real Redis."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from jobmesh.events.v1 import event_pb2, job_events_pb2
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from jobmesh.jobs.v1 import probe_pb2, trading_jobs_pb2
from jobmesh.queue.v1 import queue_service_pb2 as pb
from jobmesh.queue.v1 import queue_service_pb2_grpc as pb_grpc
from queue_system.manager import QueueManager
from queue_system.settings import Settings
from queue_system.stream_hub import StreamHub
from queue_system.tasks import task_spec
from service_kit.rich_errors import ErrorInterceptor
from tests.queue_system.conftest import wait_until
from trading_svc.servicers.queue import QueueServicer

Q = "categorization"


def cat(*ids: str) -> env.JobPayload:
    return env.JobPayload(
        categorization=fin.CategorizationJob(transaction_ids=list(ids), method=fin.CATEGORIZATION_METHOD_AI)
    )


@pytest.fixture
async def service(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis
) -> AsyncIterator[tuple[pb_grpc.QueueServiceStub, QueueManager]]:
    manager = QueueManager(make_settings(), service="trading-svc")
    await manager.initialize()
    hub = StreamHub(manager.client)
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    pb_grpc.add_QueueServiceServicer_to_server(QueueServicer(manager, hub), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield pb_grpc.QueueServiceStub(channel), manager
    finally:
        await channel.close()
        await server.stop(0)
        await hub.close()
        await manager.close(1)


def violations(err: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return {v.field: v.description for v in bad.field_violations}
    raise AssertionError("no BadRequest detail")


async def total_jobs(manager: QueueManager) -> int:
    n = 0
    for q in manager.queues:
        c = (await manager.get_queue_stats(q)).counts
        n += c.waiting + c.prioritized + c.delayed + c.paused + c.active
    return n


def huge_strategy() -> env.JobPayload:
    job = trading_jobs_pb2.StrategyExecutionJob(
        strategy_name="x" * 5000, exchange="binance", symbol="BTC/USD"
    )
    job.risk_limits.max_position_size.number_value = 1000
    job.risk_limits.max_loss.string_value = "100"
    return env.JobPayload(strategy_execution=job)


@pytest.mark.parametrize(
    ("request_", "bad_fields"),
    [
        (pb.EnqueueJobRequest(queue="no-such-queue", payload=cat("t1")), {"queue"}),
        (pb.EnqueueJobRequest(queue="strategy-execution", payload=cat("t1")), {"payload"}),
        (pb.EnqueueJobRequest(queue=Q, payload=env.JobPayload()), {"payload"}),
        (
            pb.EnqueueJobRequest(queue=Q, payload=env.JobPayload(categorization=fin.CategorizationJob())),
            {"payload.categorization.method"},
        ),
        (
            pb.EnqueueJobRequest(queue=Q, payload=cat("t1"), options=env.JobOptions(attempts=100_000)),
            {"options.attempts"},
        ),
        (
            pb.EnqueueJobRequest(queue="strategy-execution", payload=huge_strategy()),
            {"payload.strategy_execution.strategy_name"},
        ),
        (
            pb.EnqueueJobRequest(queue=Q, payload=cat(*["t"] * 20_000)),
            {"payload.categorization.transaction_ids"},
        ),
    ],
    ids=[
        "unknown-queue",
        "wrong-payload-type",
        "no-payload",
        "missing-fields",
        "absurd-attempts",
        "absurd-string",
        "absurd-list",
    ],
)
async def test_bad_jobs_are_invalid_argument_naming_each_field_and_nothing_is_enqueued(
    service: tuple[pb_grpc.QueueServiceStub, QueueManager],
    request_: pb.EnqueueJobRequest,
    bad_fields: set[str],
) -> None:
    stub, manager = service
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.EnqueueJob(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(caught.value)) == bad_fields
    assert await total_jobs(manager) == 0


async def test_negative_delay_is_rejected(service: tuple[pb_grpc.QueueServiceStub, QueueManager]) -> None:
    stub, manager = service
    opts = env.JobOptions()
    opts.delay.FromMilliseconds(-500)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.EnqueueJob(pb.EnqueueJobRequest(queue=Q, payload=cat("t"), options=opts))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "options.delay" in violations(caught.value)
    assert await total_jobs(manager) == 0


async def test_one_bad_job_rejects_the_whole_batch(
    service: tuple[pb_grpc.QueueServiceStub, QueueManager],
) -> None:
    stub, manager = service
    jobs = [pb.JobSpec(queue=Q, payload=cat(f"t{i}")) for i in range(5)]
    jobs[3].queue = "nope"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.EnqueueJobs(pb.EnqueueJobsRequest(jobs=jobs))
    assert set(violations(caught.value)) == {"jobs[3].queue"}
    assert await total_jobs(manager) == 0


async def test_enqueue_get_list_and_stats(service: tuple[pb_grpc.QueueServiceStub, QueueManager]) -> None:
    stub, _ = service
    one = await stub.EnqueueJob(pb.EnqueueJobRequest(queue=Q, payload=cat("a")))
    assert (one.queue, one.duplicate, one.state) == (Q, False, env.JOB_STATE_WAITING)
    batch = await stub.EnqueueJobs(
        pb.EnqueueJobsRequest(jobs=[pb.JobSpec(queue=Q, payload=cat(f"b{i}")) for i in range(1000)])
    )
    assert len(batch.results) == 1000 and len({r.job_id for r in batch.results}) == 1000
    got = await stub.GetJob(pb.GetJobRequest(queue=Q, job_id=one.job_id))
    assert got.job.state == env.JOB_STATE_WAITING
    assert got.job.job.payload.categorization.transaction_ids == ["a"]
    stats = await stub.GetQueueStats(pb.GetQueueStatsRequest(queue=Q))
    assert stats.stats.counts.waiting == 1001
    page = await stub.ListJobs(pb.ListJobsRequest(queue=Q, state=env.JOB_STATE_WAITING, page_size=600))
    rest = await stub.ListJobs(
        pb.ListJobsRequest(
            queue=Q, state=env.JOB_STATE_WAITING, page_size=600, page_token=page.next_page_token
        )
    )
    assert len(page.jobs) == 600 and len(rest.jobs) == 401 and rest.next_page_token == ""
    listed = await stub.ListQueueStats(pb.ListQueueStatsRequest(page_size=5))
    more = await stub.ListQueueStats(pb.ListQueueStatsRequest(page_size=5, page_token=listed.next_page_token))
    assert len(listed.stats) == 5 and len(more.stats) == 3 and more.next_page_token == ""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetJob(pb.GetJobRequest(queue=Q, job_id="missing"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_retry_with_the_same_request_id_returns_the_first_answer(
    service: tuple[pb_grpc.QueueServiceStub, QueueManager],
) -> None:
    stub, manager = service
    req = pb.EnqueueJobRequest(request_id="order-7f3a", queue=Q, payload=cat("a"))
    first = await stub.EnqueueJob(req)
    second = await stub.EnqueueJob(req)
    assert first == second and not first.duplicate
    assert (await manager.get_queue_stats(Q)).counts.waiting == 1
    batch = pb.EnqueueJobsRequest(request_id="batch-1", jobs=[pb.JobSpec(queue=Q, payload=cat("x"))] * 3)
    assert await stub.EnqueueJobs(batch) == await stub.EnqueueJobs(batch)
    assert (await manager.get_queue_stats(Q)).counts.waiting == 4


async def test_pause_cancel_retry_clean_and_drain(
    service: tuple[pb_grpc.QueueServiceStub, QueueManager],
) -> None:
    stub, manager = service
    paused = await stub.PauseQueue(pb.PauseQueueRequest(queue=Q))
    assert paused.stats.paused
    ids = [
        r.job_id
        for r in (
            await stub.EnqueueJobs(
                pb.EnqueueJobsRequest(jobs=[pb.JobSpec(queue=Q, payload=cat(f"j{i}")) for i in range(6)])
            )
        ).results
    ]
    assert (await stub.GetQueueStats(pb.GetQueueStatsRequest(queue=Q))).stats.counts.paused == 6
    cancelled = await stub.CancelJob(pb.CancelJobRequest(queue=Q, job_id=ids[0]))
    assert cancelled.job.job.id == ids[0]
    drained = await stub.DrainQueue(pb.DrainQueueRequest(queue=Q))
    assert drained.removed == 5
    resumed = await stub.ResumeQueue(pb.ResumeQueueRequest(queue=Q))
    assert not resumed.stats.paused and resumed.stats.counts.waiting == 0

    venue_up = asyncio.Event()

    async def place(job: Any) -> None:
        if not venue_up.is_set():
            raise RuntimeError("venue down")

    await manager.create_worker(Q, {Q: task_spec(Q, Q, place)})
    failed = []
    for i in range(3):
        failed.append((await stub.EnqueueJob(pb.EnqueueJobRequest(queue=Q, payload=cat(f"f{i}")))).job_id)
    await wait_until(lambda: _failed(manager, 3))
    venue_up.set()
    retried = await stub.RetryJobs(pb.RetryJobsRequest(queue=Q, state=env.JOB_STATE_FAILED, limit=2))
    assert retried.retried == 2 and set(retried.job_ids) < set(failed)
    await wait_until(lambda: _failed(manager, 1))

    async def retried_finished() -> bool:  # failed counts 1 once they left it, before they ran again
        jobs = [(await stub.GetJob(pb.GetJobRequest(queue=Q, job_id=j))).job for j in retried.job_ids]
        return all(job.state == env.JOB_STATE_COMPLETED for job in jobs)

    await wait_until(retried_finished)
    for job_id in retried.job_ids:  # ran again, and kept the first run's error
        job = (await stub.GetJob(pb.GetJobRequest(queue=Q, job_id=job_id))).job
        assert (job.state, job.attempts_made) == (env.JOB_STATE_COMPLETED, 2)
        assert [e.message for e in job.errors] == ["venue down"]
    cleaned = await stub.CleanQueue(pb.CleanQueueRequest(queue=Q, state=env.JOB_STATE_FAILED))
    assert cleaned.removed == 1
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CleanQueue(pb.CleanQueueRequest(queue=Q, state=env.JOB_STATE_ACTIVE))
    assert set(violations(caught.value)) == {"state"}


async def _failed(m: QueueManager, n: int) -> bool:
    return (await m.get_queue_stats(Q)).counts.failed == n


async def test_watch_sends_a_snapshot_then_events_and_resumes_without_a_gap(
    service: tuple[pb_grpc.QueueServiceStub, QueueManager],
) -> None:
    stub, _ = service
    await stub.EnqueueJob(pb.EnqueueJobRequest(queue=Q, payload=cat("before")))
    call = stub.WatchQueueEvents(pb.WatchQueueEventsRequest(queues=[Q]))
    first = await call.read()
    assert first.WhichOneof("kind") == "snapshot" and first.snapshot.stats[0].counts.waiting == 1
    added = [await stub.EnqueueJob(pb.EnqueueJobRequest(queue=Q, payload=cat(f"w{i}"))) for i in range(3)]
    seen, token = [], ""
    for _ in range(2):
        msg = await asyncio.wait_for(call.read(), 5)
        seen.append(msg.event)
        token = msg.resume_token
    call.cancel()
    # two of three seen; a reconnect with the last token delivers the third and nothing twice
    resumed = stub.WatchQueueEvents(pb.WatchQueueEventsRequest(queues=[Q], resume_token=token))
    assert (await resumed.read()).WhichOneof("kind") == "snapshot"
    seen.append((await asyncio.wait_for(resumed.read(), 5)).event)
    resumed.cancel()
    job_ids = []
    for event in seen:
        assert event.event == "job_added" and event.service == "trading-svc"
        data = job_events_pb2.JobLifecycle()
        assert event.data.Unpack(data)
        job_ids.append(data.job_id)
    assert job_ids == [a.job_id for a in added]


async def test_events_reach_the_seed_channel_as_proto3_json(
    service: tuple[pb_grpc.QueueServiceStub, QueueManager], redis_url: str
) -> None:
    stub, _ = service
    subscriber = aioredis.Redis.from_url(redis_url)
    pubsub = subscriber.pubsub()
    await pubsub.subscribe("financial:events")
    try:
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        added = await stub.EnqueueJob(
            pb.EnqueueJobRequest(queue=Q, payload=env.JobPayload(probe=probe_pb2.ProbeJob()))
        )
        message = None
        for _ in range(50):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message:
                break
        assert message is not None
        raw = json.loads(message["data"])
        assert set(raw) == {"service", "event", "data", "timestamp"}
        event = json_format.Parse(message["data"], event_pb2.Event())
        data = job_events_pb2.JobLifecycle()
        assert event.event == "job_added" and event.data.Unpack(data) and data.job_id == added.job_id
    finally:
        await pubsub.aclose()
        await subscriber.aclose()


async def _read_events(call: Any, n: int, within: float = 30.0) -> list[pb.WatchQueueEventsResponse]:
    out = []
    async with asyncio.timeout(within):
        while len(out) < n:
            msg = await call.read()
            if msg.WhichOneof("kind") == "event":
                out.append(msg)
    return out


@pytest.mark.slow
async def test_a_client_away_for_30s_while_1000_events_pass_gets_each_once_in_order(
    service: tuple[pb_grpc.QueueServiceStub, QueueManager],
) -> None:
    stub, _ = service
    call = stub.WatchQueueEvents(pb.WatchQueueEventsRequest(queues=[Q], events=["job_added"]))
    assert (await call.read()).WhichOneof("kind") == "snapshot"
    before = [await stub.EnqueueJob(pb.EnqueueJobRequest(queue=Q, payload=cat(f"b{i}"))) for i in range(3)]
    seen = await _read_events(call, 3)
    call.cancel()  # the client drops
    added: list[str] = [a.job_id for a in before]
    started = asyncio.get_running_loop().time()
    for batch in range(100):  # 1,000 events over the 30 s it is away
        reply = await stub.EnqueueJobs(
            pb.EnqueueJobsRequest(jobs=[pb.JobSpec(queue=Q, payload=cat(f"a{batch}-{i}")) for i in range(10)])
        )
        added += [r.job_id for r in reply.results]
        await asyncio.sleep(max(0.0, started + 0.3 * (batch + 1) - asyncio.get_running_loop().time()))
    resumed = stub.WatchQueueEvents(
        pb.WatchQueueEventsRequest(queues=[Q], events=["job_added"], resume_token=seen[-1].resume_token)
    )
    assert (await resumed.read()).WhichOneof("kind") == "snapshot"
    rest = await _read_events(resumed, 1000)
    resumed.cancel()
    job_ids = []
    for msg in [*seen, *rest]:
        data = job_events_pb2.JobLifecycle()
        assert msg.event.data.Unpack(data)
        job_ids.append(data.job_id)
    assert job_ids == added  # every one, in order, none twice


async def test_an_entry_that_does_not_parse_never_ends_a_watch(
    service: tuple[pb_grpc.QueueServiceStub, QueueManager],
) -> None:
    stub, manager = service
    call = stub.WatchQueueEvents(pb.WatchQueueEventsRequest(queues=[Q]))
    assert (await call.read()).WhichOneof("kind") == "snapshot"
    events_key = manager.queue(Q).keys.events
    # a newer writer's field, and an entry that is not an event at all
    newer = (
        '{"queue":"categorization","jobId":"j-new","state":"JOB_STATE_ACTIVE",'
        '"reclaimedFrom":"w1","futureField":1}'
    )
    await manager.client.xadd(events_key, {"service": "x", "event": "job_stalled", "data": newer})
    await manager.client.xadd(events_key, {"garbage": "1"})
    await manager.client.xadd(events_key, {"service": "x", "event": "job_active", "data": "{not json"})
    added = await stub.EnqueueJob(pb.EnqueueJobRequest(queue=Q, payload=cat("after")))
    stalled, after = await _read_events(call, 2, within=10)
    call.cancel()
    first, second = job_events_pb2.JobLifecycle(), job_events_pb2.JobLifecycle()
    assert stalled.event.event == "job_stalled" and stalled.event.data.Unpack(first)
    assert (first.job_id, first.reclaimed_from) == ("j-new", "w1")
    assert after.event.data.Unpack(second) and second.job_id == added.job_id


async def test_a_batch_of_10000_bad_jobs_is_refused_in_one_status_that_fits(
    service: tuple[pb_grpc.QueueServiceStub, QueueManager],
) -> None:
    stub, manager = service
    jobs = [
        pb.JobSpec(
            queue=Q,
            payload=env.JobPayload(
                categorization=fin.CategorizationJob(options=fin.CategorizationOptions(confidence=2.0))
            ),
        )
        for _ in range(10_000)
    ]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.EnqueueJobs(pb.EnqueueJobsRequest(jobs=jobs))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    named = violations(caught.value)
    assert 0 < len(named) <= 20 and "jobs[0].payload.categorization.method" in named
    assert "(and 19999 more)" in (caught.value.details() or "")
    assert await total_jobs(manager) == 0
