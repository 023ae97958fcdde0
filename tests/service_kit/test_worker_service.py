"""A worker service adds its own tasks and schedules through a WorkerRole, never touching the shared
servicer: here a role with a task and a schedule book of its own, served by the real kit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from jobmesh.worker.v1 import worker_service_pb2 as pb
from jobmesh.worker.v1 import worker_service_pb2_grpc as pb_grpc
from queue_system.broker import JobBroker
from queue_system.catalog import CATEGORIZATION, FINANCIAL_QUEUES
from queue_system.errors import NotFoundError
from queue_system.settings import Settings
from service_kit.server import ServedService, Service, ServiceContext
from service_kit.settings import SERVICE_BY_MODULE, ServiceSettings
from service_kit.worker_service import WorkerRole, build_worker
from tests.queue_system.conftest import wait_until
from tests.service_processes import free_port

SYNC = env.JobPayload(
    categorization=fin.CategorizationJob(transaction_ids=["tx_9"], method=fin.CATEGORIZATION_METHOD_RULES)
)


class Book:
    """A schedule book as a worker service would bring one: a page of schedules, and a trigger."""

    def __init__(self, broker: JobBroker) -> None:
        self.broker = broker
        self.schedule = pb.Schedule(
            name="nightly-categorize", cron="0 2 * * *", timezone="UTC", queue=CATEGORIZATION
        )
        self.schedule.payload.CopyFrom(SYNC)

    async def page(self, page_size: int, page_token: str) -> tuple[list[pb.Schedule], str]:
        return [self.schedule], ""

    async def trigger(self, name: str, request_id: str) -> tuple[list[str], str]:
        if name != self.schedule.name:
            raise NotFoundError("schedule", name)
        added = await self.broker.manager.add_job(self.schedule.queue, self.schedule.payload)
        return [added.job_id], added.queue

    async def pause(self, name: str, note: str) -> pb.Schedule:
        raise NotFoundError("schedule", name)

    async def resume(self, name: str, note: str) -> pb.Schedule:
        raise NotFoundError("schedule", name)


@pytest.fixture
async def worker_service(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis
) -> AsyncIterator[tuple[pb_grpc.WorkerServiceStub, list[str]]]:
    ran: list[str] = []

    def register_tasks(broker: JobBroker) -> None:
        @broker.task(queue=CATEGORIZATION)
        async def categorize(job: fin.CategorizationJob) -> None:
            ran.append(job.transaction_ids[0])

    role = WorkerRole(queues=FINANCIAL_QUEUES, register_tasks=register_tasks, schedules=Book)
    spec = SERVICE_BY_MODULE["worker_financial"]
    settings = ServiceSettings(
        runtime=make_settings(),
        bind_host="127.0.0.1",
        grpc_ports={spec.module: free_port()},
        metrics_ports={spec.module: free_port()},
    )

    def build(context: ServiceContext) -> list[ServedService]:
        return list(build_worker(context, role))

    service = Service(spec, settings, build)
    await service.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.grpc_port}")
    try:
        yield pb_grpc.WorkerServiceStub(channel), ran
    finally:
        await channel.close()
        await service.stop()


async def test_a_role_brings_its_tasks_and_schedules_to_the_shared_servicer(
    worker_service: tuple[pb_grpc.WorkerServiceStub, list[str]],
) -> None:
    stub, ran = worker_service
    listed = await stub.ListSchedules(pb.ListSchedulesRequest())
    assert [s.name for s in listed.schedules] == ["nightly-categorize"] and listed.next_page_token == ""
    first = await stub.TriggerSchedule(pb.TriggerScheduleRequest(request_id="t-1", name="nightly-categorize"))
    again = await stub.TriggerSchedule(pb.TriggerScheduleRequest(request_id="t-1", name="nightly-categorize"))
    assert first == again and first.queue == CATEGORIZATION  # a repeated call is the first answer
    await wait_until(lambda: _ran(ran, 1))
    await asyncio.sleep(0.2)
    assert ran == ["tx_9"]  # the role's task ran the triggered job, once
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.TriggerSchedule(pb.TriggerScheduleRequest(name="nope"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await stub.TriggerSchedule(pb.TriggerScheduleRequest())
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = await stub.GetQueueStatus(pb.GetQueueStatusRequest())
    assert status.worker == "worker-financial" and [q.queue for q in status.queues] == list(FINANCIAL_QUEUES)


async def _ran(ran: list[Any], n: int) -> bool:
    return len(ran) >= n
