"""A retry with the same request_id gets the first answer; racing retries agree on the one stored first."""

from __future__ import annotations

import redis.asyncio as aioredis

from jobmesh.queue.v1 import queue_service_pb2 as pb
from queue_system.keys import idempotency_key
from service_kit.idempotency import first_answer


async def test_a_retry_gets_the_first_answer_without_running_again(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    runs: list[str] = []

    async def compute() -> pb.EnqueueJobResponse:
        runs.append("ran")
        return pb.EnqueueJobResponse(job_id=f"job-{len(runs)}")

    async def call() -> pb.EnqueueJobResponse:
        return await first_answer(
            redis_client, prefix=queue_prefix, scope="S.Enqueue", request_id="r-1",
            response_type=pb.EnqueueJobResponse, compute=compute,
        )

    assert (await call()).job_id == "job-1"
    assert (await call()).job_id == "job-1"
    assert runs == ["ran"]
    assert await redis_client.ttl(idempotency_key(queue_prefix, "S.Enqueue", "r-1")) > 0


async def test_when_retries_raced_the_answer_stored_first_is_everyones(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    key = idempotency_key(queue_prefix, "S.Enqueue", "r-2")

    async def compute() -> pb.EnqueueJobResponse:
        # another retry stored its answer while this one was computing
        await redis_client.set(key, pb.EnqueueJobResponse(job_id="theirs").SerializeToString())
        return pb.EnqueueJobResponse(job_id="mine")

    got = await first_answer(
        redis_client, prefix=queue_prefix, scope="S.Enqueue", request_id="r-2",
        response_type=pb.EnqueueJobResponse, compute=compute,
    )
    assert got.job_id == "theirs"


async def test_without_a_request_id_every_call_runs(redis_client: aioredis.Redis, queue_prefix: str) -> None:
    runs: list[int] = []

    async def compute() -> pb.EnqueueJobResponse:
        runs.append(1)
        return pb.EnqueueJobResponse()

    for _ in range(2):
        await first_answer(
            redis_client, prefix=queue_prefix, scope="S.Enqueue", request_id="",
            response_type=pb.EnqueueJobResponse, compute=compute,
        )
    assert len(runs) == 2
