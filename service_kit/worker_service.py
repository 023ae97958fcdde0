"""What worker-trading and worker-financial share: a broker, a receiver on the
service's queues, and WorkerService, wired into the server runner.

A worker service says only what is its own, in a `WorkerRole`: its queues,
the tasks it registers on the broker, and (when it has them) its cron
schedules. Nothing of that touches the shared servicer. Workers start once
the server listens and stop taking jobs the moment shutdown begins (running
jobs get the grace period; what does not finish is given back). A job whose
task this worker does not register goes to the dead-letter stream, named as
such, rather than being dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jobmesh.worker.v1 import worker_service_pb2, worker_service_pb2_grpc
from queue_system.broker import JobBroker
from queue_system.receiver import JobReceiver
from queue_system.scheduler import Scheduler
from service_kit.schedule_book import SchedulerBook
from service_kit.server import ServedService, ServiceContext, served
from service_kit.worker_servicer import Schedules, WorkerServicer


def _no_tasks(broker: JobBroker) -> None:
    """A worker service without tasks of its own yet: its jobs are dead-lettered as unknown tasks."""


@dataclass(frozen=True, slots=True)
class WorkerRole:
    """What one worker service adds to the shared shell."""

    queues: Sequence[str]
    # Declares the service's taskiq tasks on the broker (`@broker.task(queue=...)`).
    register_tasks: Callable[[JobBroker], None] = _no_tasks
    # The service's cron schedules: a Scheduler, which every process of the service runs (its
    # replicas decide each slot once between them), or any `Schedules` WorkerService can show.
    # Without them WorkerService lists no schedule.
    schedules: Callable[[JobBroker], Scheduler | Schedules] | None = None


def build_worker(context: ServiceContext, role: WorkerRole) -> Sequence[ServedService]:
    """Everything one worker service runs.

    `<SERVICE>_CONCURRENCY` (e.g. WORKER_TRADING_CONCURRENCY), when set, replaces
    every queue's WORKER_CONFIGS concurrency.
    """
    name = context.spec.name
    broker = JobBroker(context.settings.runtime, service=name, queues=role.queues)
    role.register_tasks(broker)
    receiver = JobReceiver(broker, concurrency=context.settings.worker_concurrency.get(context.spec.module))

    made = role.schedules(broker) if role.schedules is not None else None
    scheduler = made if isinstance(made, Scheduler) else None
    schedules = SchedulerBook(made) if isinstance(made, Scheduler) else made

    async def start() -> None:
        await broker.startup()
        await receiver.start()
        if scheduler is not None:
            await scheduler.load()

    context.on_startup(start)
    context.run_in_background(broker.manager.track_queue_depth)
    if scheduler is not None:
        context.run_in_background(scheduler.run)
    context.on_stopping(receiver.stop)
    context.on_shutdown(broker.shutdown)
    if scheduler is not None:
        context.on_shutdown(scheduler.shutdown)
    servicer = WorkerServicer(name, role.queues, broker.manager, lambda: receiver.running, schedules)
    return [
        served(
            worker_service_pb2,
            "WorkerService",
            worker_service_pb2_grpc.add_WorkerServiceServicer_to_server,
            servicer,
        ),
    ]
