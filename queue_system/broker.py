"""`JobBroker`: taskiq's programming model on jobmesh's queues.

A taskiq user declares tasks on a broker and sends them with `kiq`:

    broker = JobBroker(settings, service="worker-trading")

    @broker.task(queue="strategy-execution")
    async def execute_strategy(job: StrategyExecutionJob, ctx: JobContext) -> None: ...

    await execute_strategy.kiq(StrategyExecutionJob(...))
    await execute_strategy.kicker().with_labels(priority="high", delay=5.0).kiq(job)

What travels is a protobuf `Job` envelope (never pickle); options come from
labels (`priority`, `delay` s, `attempts`, `timeout` s, `job_id`, `group_key`,
`supersede_waiting`, or a whole serialized `JobOptions` as the bytes label
`options`). Jobs with the same `group_key` run one at a time on their queue;
`supersede_waiting=True` replaces the group's jobs that have not started:

    await execute_strategy.kicker().with_labels(group_key=sid, supersede_waiting=True).kiq(job)

Sending goes through taskiq's kicker, so `pre_send`/`post_send` middlewares run; receiving is
jobmesh's own path (`queue_system.receiver.JobReceiver`, which taskiq's CLI
runs with `--receiver queue_system.receiver:JobReceiver`), which also runs
`pre_execute`/`post_execute`/`on_error` and stores each job's final outcome
for `wait_result()` (queue_system.results). taskiq-redis's stream listener and
taskiq's own receiver are not used: they lose and hoard jobs (DESIGN.md).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, ParamSpec, TypeVar, cast, overload

from google.protobuf.message import Message as ProtoMessage
from google.protobuf.timestamp_pb2 import Timestamp
from taskiq.abc.broker import AsyncBroker
from taskiq.abc.formatter import TaskiqFormatter
from taskiq.acks import AckableMessage
from taskiq.decor import AsyncTaskiqDecoratedTask
from taskiq.message import BrokerMessage, TaskiqMessage

from jobmesh.jobs.v1 import envelope_pb2 as env
from queue_system.catalog import ALL_QUEUES
from queue_system.envelope import JobRequest, envelope_bytes
from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.manager import QueueManager
from queue_system.options import duration_ms, lane_of
from queue_system.queue import NewJob
from queue_system.receiver import JobReceiver
from queue_system.results import BackendResults, ResultSink, redis_result_backend
from queue_system.settings import Settings
from queue_system.validation.jobs import checked_job

P = ParamSpec("P")
T = TypeVar("T")

# JobPayload field for each payload message type (by full proto name).
PAYLOAD_FIELD_OF_TYPE = {
    f.message_type.full_name: f.name
    for f in env.JobPayload.DESCRIPTOR.oneofs_by_name["kind"].fields
    if f.message_type is not None
}
PRIORITY_LABELS = {
    "low": env.JOB_PRIORITY_LOW,
    "normal": env.JOB_PRIORITY_NORMAL,
    "high": env.JOB_PRIORITY_HIGH,
    "critical": env.JOB_PRIORITY_CRITICAL,
}


def payload_of(message: object) -> env.JobPayload:
    """Wrap a job message (StrategyExecutionJob, ...) in the JobPayload oneof."""
    if isinstance(message, env.JobPayload):
        return message
    if not isinstance(message, ProtoMessage):
        raise InvalidArgumentError(
            [FieldViolation("payload", f"a task takes one jobmesh job message, got {type(message).__name__}")]
        )
    field = PAYLOAD_FIELD_OF_TYPE.get(message.DESCRIPTOR.full_name)
    if field is None:
        raise InvalidArgumentError(
            [
                FieldViolation(
                    "payload", f"{message.DESCRIPTOR.full_name} is not a job type of jobmesh.jobs.v1"
                )
            ]
        )
    payload = env.JobPayload()
    getattr(payload, field).CopyFrom(message)
    return payload


def options_from_labels(labels: dict[str, Any]) -> env.JobOptions:
    """JobOptions from taskiq labels (already parsed to their Python types)."""
    opts = env.JobOptions()
    raw = labels.get("options")
    if isinstance(raw, bytes | str) and raw:
        opts.ParseFromString(raw if isinstance(raw, bytes) else base64.b64decode(raw))
    if "priority" in labels:
        value = labels["priority"]
        if isinstance(value, str) and value.lower() in PRIORITY_LABELS:
            opts.priority = PRIORITY_LABELS[value.lower()]
        else:
            try:
                opts.priority = cast(env.JobPriority, env.JobPriority.Value(env.JobPriority.Name(int(value))))
            except ValueError:
                raise InvalidArgumentError(
                    [FieldViolation("options.priority", f"unknown priority {value!r}")]
                ) from None
    if "delay" in labels:
        opts.delay.FromMilliseconds(int(float(labels["delay"]) * 1000))
    if "attempts" in labels:
        opts.attempts = int(labels["attempts"])
    if "timeout" in labels:
        opts.timeout.FromMilliseconds(int(float(labels["timeout"]) * 1000))
    if "job_id" in labels:
        opts.job_id = str(labels["job_id"])
    if "group_key" in labels:
        opts.group_key = str(labels["group_key"])
    if "supersede_waiting" in labels:
        opts.supersede_waiting = _flag(labels["supersede_waiting"], "options.supersede_waiting")
    return opts


def _flag(value: object, field: str) -> bool:
    """A boolean label: a bool, or its text ("true"/"false", "1"/"0", "yes"/"no")."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no", ""):
        return False
    raise InvalidArgumentError([FieldViolation(field, f"expected true or false, got {value!r}")])


class EnvelopeFormatter(TaskiqFormatter):
    """TaskiqMessage <-> protobuf Job envelope."""

    def __init__(self, broker: JobBroker) -> None:
        self.broker = broker

    def dumps(self, message: TaskiqMessage) -> BrokerMessage:
        if len(message.args) != 1 or message.kwargs:
            raise InvalidArgumentError(
                [FieldViolation("payload", "a jobmesh task takes exactly one positional job message")]
            )
        message.parse_labels()
        labels = dict(message.labels)
        queue = str(labels.get("queue") or message.task_name)
        payload = payload_of(message.args[0])
        opts = options_from_labels(labels)
        request = JobRequest(queue, payload, opts, task_name=message.task_name)
        checked_job(request)
        now = Timestamp()
        now.FromNanoseconds(time.time_ns())
        # a job_id label names the job: the handle kiq() returns must name it too
        message.task_id = job_id = opts.job_id or message.task_id
        return BrokerMessage(
            task_id=job_id,
            task_name=message.task_name,
            message=envelope_bytes(request, job_id, now),
            labels={
                "queue": queue,
                "lane": lane_of(opts.priority),
                "delay_ms": duration_ms(opts.delay),
                "group_key": opts.group_key,
                "supersede_waiting": opts.supersede_waiting,
            },
        )

    def loads(self, message: bytes) -> TaskiqMessage:
        job = env.Job.FromString(message)
        kind = job.payload.WhichOneof("kind") or ""
        return TaskiqMessage(
            task_id=job.id,
            task_name=job.task_name or job.queue,
            labels={"queue": job.queue},
            args=[getattr(job.payload, kind)] if kind else [],
            kwargs={},
        )


class JobBroker(AsyncBroker):
    """A taskiq broker whose queues are jobmesh's reliable Redis Stream queues."""

    def __init__(
        self,
        settings: Settings,
        *,
        service: str,
        queues: Sequence[str] = ALL_QUEUES,
        keep_results: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.service = service
        self.manager = QueueManager(settings, service=service, queues=queues)
        self.formatter = EnvelopeFormatter(self)
        # Exception types each task never retries (`throws=`), by task name.
        self._throws: dict[str, tuple[type[BaseException], ...]] = {}
        self.results: ResultSink | None = None
        if keep_results:
            backend = redis_result_backend(settings.redis_url, settings.queue_prefix)
            self.with_result_backend(backend)
            self.results = BackendResults(backend)

    @overload
    def task(
        self, task_name: Callable[P, T], *, throws: Sequence[type[BaseException]] = (), **labels: Any
    ) -> AsyncTaskiqDecoratedTask[P, T]: ...

    @overload
    def task(
        self, task_name: str | None = None, *, throws: Sequence[type[BaseException]] = (), **labels: Any
    ) -> Callable[[Callable[P, T]], AsyncTaskiqDecoratedTask[P, T]]: ...

    def task(
        self, task_name: Any = None, *, throws: Sequence[type[BaseException]] = (), **labels: Any
    ) -> Any:
        """taskiq's decorator; `queue=` names the jobmesh queue (and the default task name),
        `throws=` exception types the task never retries (as dramatiq's actors)."""
        queue = labels.get("queue")
        if queue is not None and queue not in self.manager.queues:
            raise ValueError(f"unknown queue {queue!r}; one of: {', '.join(self.manager.queues)}")
        if task_name is None and queue is not None:
            task_name = queue
        decorate = super().task(task_name, **labels)
        if callable(task_name):  # bare @broker.task: taskiq returned the task itself
            return self._adopt(decorate, throws)
        return lambda fn: self._adopt(decorate(fn), throws)

    def _adopt(self, declared: Any, throws: Sequence[type[BaseException]]) -> Any:
        """Remember what the task never retries. A task that returns a protobuf message gets it
        back from wait_result() as that message (queue_system.results), not through pydantic,
        which cannot parse protobuf types."""
        self._throws[declared.task_name] = tuple(throws)
        if isinstance(declared.return_type, type) and issubclass(declared.return_type, ProtoMessage):
            declared.return_type = None
        return declared

    async def startup(self) -> None:
        await super().startup()
        await self.manager.initialize()

    async def shutdown(self) -> None:
        await self.manager.close()
        await super().shutdown()

    async def kick(self, message: BrokerMessage) -> None:
        """Add the job; through a Redis outage it waits (JOBMESH_RIDE_OUT_MS), never adding it twice."""
        labels = message.labels
        queue = self.manager.queue(str(labels["queue"])).name
        new = NewJob(
            message.task_id,
            message.message,
            int(labels["lane"]),
            int(labels["delay_ms"]),
            str(labels.get("group_key") or ""),
            bool(labels.get("supersede_waiting")),
        )
        await self.manager.producer.send([(queue, new)])

    async def listen(self) -> AsyncGenerator[bytes | AckableMessage, None]:
        """What taskiq's default receiver reads (`taskiq worker app:broker`): nothing.

        jobmesh's queues must be read by jobmesh's workers, which keep their
        guarantees (leases, takeovers of dead workers' jobs, delivery counts,
        reads of only as many jobs as there are free slots). So this runs a
        JobReceiver on the broker's queues and yields no message; when taskiq
        stops listening (the cancel at shutdown) the workers stop gracefully:
        running jobs get the grace period, the rest go back to their lanes.
        """
        receiver = JobReceiver(self)
        await receiver.start()
        try:
            await asyncio.Event().wait()
            yield b""  # never reached: it makes this the generator taskiq iterates
        finally:
            await asyncio.shield(receiver.stop())

    def tasks_of(self, queue: str) -> dict[str, tuple[Callable[..., Any], tuple[type[BaseException], ...]]]:
        """Registered tasks of one queue, by task name: the function and what it never retries."""
        return {
            name: (task.original_func, self._throws.get(name, ()))
            for name, task in self.get_all_tasks().items()
            if (task.labels.get("queue") or name) == queue
        }
