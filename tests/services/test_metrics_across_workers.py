"""The seed's metrics stay right with several worker processes on one queue:
job counters are per process and add up to the jobs run; queue_depth is read
from Redis, so every process reports the same global depth."""

from __future__ import annotations

import time
import uuid

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import probe_pb2
from jobmesh.queue.v1 import queue_service_pb2 as qpb
from jobmesh.queue.v1 import queue_service_pb2_grpc as qgrpc
from tests.service_processes import SPECS, ServiceProcess, eventually, samples, stop_all
from tests.service_processes import wait_for as wait_for_health

N = 400
SUCCESS = (("job_type", "probe"), ("status", "success"))


def test_two_worker_processes_count_every_job_once_and_agree_on_depth(redis_url: str) -> None:
    env_ = {"QUEUE_PREFIX": f"m{uuid.uuid4().hex[:10]}", "JOBMESH_QUEUE_CATEGORIZATION_RATE_LIMIT": "none"}
    trading = ServiceProcess(SPECS["trading_svc"], redis_url, env_).start()
    workers = [ServiceProcess(SPECS["worker_financial"], redis_url, env_).start() for _ in range(2)]
    services = [trading, *workers]
    try:
        wait_for_health(services, "SERVING")
        queues = qgrpc.QueueServiceStub(trading.channel)
        paused = queues.PauseQueue(qpb.PauseQueueRequest(queue="categorization"))
        assert paused.stats.paused
        jobs = [
            qpb.JobSpec(queue="categorization", payload=env.JobPayload(probe=probe_pb2.ProbeJob(seq=i)))
            for i in range(N)
        ]
        queues.EnqueueJobs(qpb.EnqueueJobsRequest(jobs=jobs))
        # both processes read the same depth from Redis (refreshed every 2 s)
        def depths() -> list[float]:
            key = (("priority", "normal"), ("queue_name", "categorization"))
            return [samples(w.metrics_url, "queue_depth").get(key, -1.0) for w in workers]

        eventually(lambda: depths() == [N, N], within=30)
        queues.ResumeQueue(qpb.ResumeQueueRequest(queue="categorization"))

        def all_counted() -> bool:
            return sum(samples(w.metrics_url, "jobs_processed_total").get(SUCCESS, 0.0) for w in workers) >= N

        eventually(all_counted, within=20)
        time.sleep(0.5)
        counted = [samples(w.metrics_url, "jobs_processed_total").get(SUCCESS, 0.0) for w in workers]
        assert sum(counted) == N, counted
        assert all(c > 0 for c in counted), f"both processes should have run jobs: {counted}"
        histogram = [
            samples(w.metrics_url, "job_processing_seconds_count").get((("job_type", "probe"),), 0.0)
            for w in workers
        ]
        assert histogram == counted
    finally:
        stop_all(services)
