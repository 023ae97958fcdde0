"""What worker-trading and worker-financial share: a broker, a Worker on the
service's queues, and WorkerService, wired into the server runner.

Workers start consuming once the server listens and stop taking jobs the
moment shutdown begins (running jobs get the grace period; what does not
finish is given back). A job whose task this worker does not register goes
to the dead-letter stream, named as such, rather than being dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jobmesh.worker.v1 import worker_service_pb2, worker_service_pb2_grpc
from queue_system.broker import JobBroker
from queue_system.metrics import track_queue_depth
from queue_system.server import ServedService, ServiceContext, served
from queue_system.worker import Worker
from queue_system.worker_service import WorkerServicer


def build_worker(
    context: ServiceContext,
    queues: Sequence[str],
    concurrency: int | None,
    register_tasks: Callable[[JobBroker], None] | None = None,
) -> Sequence[ServedService]:
    """Everything one worker service runs; `register_tasks` declares its taskiq tasks."""
    name = context.spec.name
    broker = JobBroker(context.settings, service=name, queues=queues)
    if register_tasks is not None:
        register_tasks(broker)
    worker = Worker(broker, queues, concurrency=concurrency)

    async def start() -> None:
        await broker.startup()
        await worker.start()

    context.on_startup(start)
    context.run_in_background(lambda: track_queue_depth(broker.manager, queues))
    context.on_stopping(worker.stop)
    context.on_shutdown(broker.shutdown)
    servicer = WorkerServicer(name, queues, broker.manager, lambda: worker.running)
    return [
        served(
            worker_service_pb2,
            "WorkerService",
            worker_service_pb2_grpc.add_WorkerServiceServicer_to_server,
            servicer,
        ),
    ]
