"""dlq-svc's domain on the test's Redis prefix: the store, capture, decisions and alerts, plus
workers whose handlers fail the way a test asks (real exceptions, real queues, no mocks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis

from dlq_svc.alerts import AlertLog
from dlq_svc.capture import Capture
from dlq_svc.decisions import Decisions
from dlq_svc.settings import DlqSettings
from dlq_svc.store import DeadLetterStore, Filters
from jobmesh.dlq.v1 import dead_letter_pb2 as dpb
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import probe_pb2
from queue_system.catalog import ALL_QUEUES
from queue_system.dead_letters import DeadLetterReader
from queue_system.manager import QueueManager
from queue_system.settings import Settings, queue_env_stem
from queue_system.tasks import task_spec
from tests.queue_system.conftest import bounded, wait_until

WITHIN = 60.0  # generous: a loaded CI machine


def no_rate_limits() -> dict[str, str]:
    return {f"{queue_env_stem(q)}_RATE_LIMIT": "none" for q in ALL_QUEUES}


@dataclass
class Dlq:
    """dlq-svc's domain objects on one prefix, and a manager to make jobs fail with."""

    manager: QueueManager
    store: DeadLetterStore
    settings: DlqSettings
    decisions: Decisions
    capture: Capture
    alerts: AlertLog

    async def fail_with(
        self, queue: str, exc: BaseException, *, jobs: int = 1, attempts: int = 1, strategy_id: str = ""
    ) -> list[str]:
        """Add `jobs` probe jobs on `queue` whose handler raises `exc` every time; their ids."""

        async def fail(job: Any) -> None:
            raise exc

        await self.manager.create_worker(queue, {queue: task_spec(queue, queue, fail)}, concurrency=20)
        ids = []
        for n in range(jobs):
            opts = env.JobOptions(attempts=attempts, group_key=strategy_id)
            added = await self.manager.add_job(
                queue, env.JobPayload(probe=probe_pb2.ProbeJob(seq=n)), opts, task_name=queue
            )
            ids.append(added.job_id)
        return ids

    async def captured(self, n: int) -> list[dpb.DeadLetter]:
        """Capture until at least `n` dead letters are stored; them all, newest first."""

        async def enough() -> bool:
            await self.capture.step(block_ms=50)
            return await self.store.count() >= n

        await wait_until(enough, within=WITHIN, every=0.01)
        ids, _ = await self.store.page(_ALL, 1000)
        return await self.store.get_many(ids)


_ALL = Filters()


@pytest.fixture
def dlq_settings() -> DlqSettings:
    return DlqSettings(retry_base_ms=200, max_auto_retries=2, redrive_per_second=20, sweep_ms=50)


@pytest.fixture
async def dlq(
    make_settings: Callable[..., Settings], redis_client: aioredis.Redis, dlq_settings: DlqSettings
) -> AsyncIterator[Dlq]:
    settings = make_settings(**no_rate_limits())
    manager = QueueManager(settings, service="dlq-test")
    await manager.initialize()
    store = DeadLetterStore(manager.client, settings.queue_prefix)
    reader = DeadLetterReader(
        manager.client, settings.queue_prefix, list(manager.queues), "dlq-test", reclaim_ms=500
    )
    await reader.ensure_group()
    yield Dlq(
        manager,
        store,
        dlq_settings,
        Decisions(store, manager, dlq_settings),
        Capture(reader, store, dlq_settings),
        AlertLog(manager.client, settings.queue_prefix, 60_000),
    )
    await bounded(manager.close(grace_s=1), "manager.close")
