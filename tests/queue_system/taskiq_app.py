"""A taskiq app as a taskiq user writes one, for tests that run `taskiq worker` for real.

    taskiq worker tests.queue_system.taskiq_app:broker --receiver queue_system.receiver:JobReceiver

Configured from the environment (REDIS_URL, QUEUE_PREFIX, ...). Its task
sleeps for `transaction_ids[0]` ms ("sleep:<ms>") and records every start in
Redis (`<prefix>:test:starts`, entries `job_id|pid`).
"""

from __future__ import annotations

import asyncio
import os

from jobmesh.jobs.v1 import financial_jobs_pb2
from queue_system.broker import JobBroker
from queue_system.catalog import CATEGORIZATION
from queue_system.connection import connect
from queue_system.context import JobContext
from queue_system.settings import load

settings = load()
broker = JobBroker(settings, service="taskiq-app", queues=[CATEGORIZATION])
recorder = connect(settings.redis_url)


@broker.task(queue=CATEGORIZATION)
async def categorize(job: financial_jobs_pb2.CategorizationJob, ctx: JobContext) -> str:
    await recorder.rpush(f"{settings.queue_prefix}:test:starts", f"{ctx.job_id}|{os.getpid()}")
    action = job.transaction_ids[0]
    if action.startswith("sleep:"):
        await asyncio.sleep(int(action[6:]) / 1000)
    return f"categorized {action}"
