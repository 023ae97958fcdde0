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
from queue_system.worker import Worker
from service_kit.server import ServedService, ServiceContext, served
from service_kit.worker_servicer import WorkerServicer


def build_worker(
    context: ServiceContext,
    queues: Sequence[str],
    register_tasks: Callable[[JobBroker], None] | None = None,
) -> Sequence[ServedService]:
    """Everything one worker service runs; `register_tasks` declares its taskiq tasks.

    `<SERVICE>_CONCURRENCY` (e.g. WORKER_TRADING_CONCURRENCY), when set, replaces
    every queue's WORKER_CONFIGS concurrency.
    """
    name = context.spec.name
    concurrency = context.settings.worker_concurrency.get(context.spec.module)
    broker = JobBroker(context.settings.runtime, service=name, queues=queues)
    if register_tasks is not None:
        register_tasks(broker)
    worker = Worker(broker, queues, concurrency=concurrency)

    async def start() -> None:
        await broker.startup()
        await worker.start()

    context.on_startup(start)
    context.run_in_background(broker.manager.track_queue_depth)
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
