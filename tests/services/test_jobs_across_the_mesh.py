"""A job's whole trip over the real mesh: submitted to trading-svc, run by a worker
process, counted in that worker's metrics; WorkerService controls the queues."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.struct_pb2 import Value

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from jobmesh.jobs.v1 import probe_pb2
from jobmesh.queue.v1 import queue_service_pb2 as qpb
from jobmesh.queue.v1 import queue_service_pb2_grpc as qgrpc
from jobmesh.worker.v1 import worker_service_pb2 as wpb
from jobmesh.worker.v1 import worker_service_pb2_grpc as wgrpc
from queue_system.catalog import FINANCIAL_QUEUES
from tests.service_processes import ServiceProcess, eventually, samples

Q = "categorization"


def test_a_job_runs_on_the_worker_and_is_counted(mesh_services: dict[str, ServiceProcess]) -> None:
    trading, financial = mesh_services["trading_svc"], mesh_services["worker_financial"]
    queues = qgrpc.QueueServiceStub(trading.channel)
    success = (("job_type", "probe"), ("status", "success"))
    before = samples(financial.metrics_url, "jobs_processed_total").get(success, 0.0)
    sent = queues.EnqueueJobs(
        qpb.EnqueueJobsRequest(
            jobs=[
                qpb.JobSpec(queue=Q, payload=env.JobPayload(probe=probe_pb2.ProbeJob(seq=i)))
                for i in range(25)
            ]
        )
    )
    assert len(sent.results) == 25

    def counted() -> bool:
        return samples(financial.metrics_url, "jobs_processed_total").get(success, 0.0) >= before + 25

    eventually(counted)
    depth = samples(financial.metrics_url, "queue_depth")
    assert (("priority", "normal"), ("queue_name", Q)) in depth
    stats = queues.GetQueueStats(qpb.GetQueueStatsRequest(queue=Q)).stats
    assert stats.counts.waiting == 0 and stats.counts.active == 0 and stats.workers >= 1


def test_a_job_its_worker_refuses_is_dead_lettered_not_dropped(
    mesh_services: dict[str, ServiceProcess],
) -> None:
    # account-reconciliation of an account the ledger does not have: refused as bad input, not
    # retried; on its own rate-limit budget (the probes above used categorization's)
    queue = "account-reconciliation"
    queues = qgrpc.QueueServiceStub(mesh_services["trading_svc"].channel)
    before = queues.GetQueueStats(qpb.GetQueueStatsRequest(queue=queue)).stats.dead_lettered
    job = fin.AccountReconciliationJob(
        account_id="acc_1",
        reconciliation_type=fin.RECONCILIATION_TYPE_MANUAL,
        discrepancy_threshold=Value(number_value=1),
    )
    queues.EnqueueJob(qpb.EnqueueJobRequest(queue=queue, payload=env.JobPayload(account_reconciliation=job)))
    eventually(
        lambda: queues.GetQueueStats(qpb.GetQueueStatsRequest(queue=queue)).stats.dead_lettered == before + 1
    )


def test_worker_service_reports_and_pauses_its_queues(mesh_services: dict[str, ServiceProcess]) -> None:
    worker = wgrpc.WorkerServiceStub(mesh_services["worker_financial"].channel)
    status = worker.GetQueueStatus(wpb.GetQueueStatusRequest())
    assert status.worker == "worker-financial"
    assert [s.queue for s in status.queues] == list(FINANCIAL_QUEUES)
    assert {s.queue: s.concurrency for s in status.queues}["report-generation"] == 1
    with pytest.raises(grpc.RpcError) as caught:
        worker.PauseQueues(wpb.PauseQueuesRequest(queues=["strategy-execution"]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    paused = worker.PauseQueues(wpb.PauseQueuesRequest(request_id="p-1", queues=["report-generation"]))
    assert [s.paused for s in paused.queues] == [True]
    resumed = worker.ResumeQueues(wpb.ResumeQueuesRequest(queues=["report-generation"]))
    assert [s.paused for s in resumed.queues] == [False]
