"""`JobReceiver`: taskiq's receiver, running jobmesh's receive path for a broker's queues.

One `Worker` per queue, each with the queue's concurrency (or an override
such as WORKER_TRADING_CONCURRENCY) and its shared rate limit, so every
guarantee of the queue holds (leases, takeovers of dead workers' jobs,
delivery counts, reads of only as many jobs as there are free slots).
taskiq middlewares' `pre_execute`, `post_execute` and `on_error` run around
every handler, and a job's final outcome goes to the broker's result backend,
so `await (await task.kiq(job)).wait_result()` works.

Run it the taskiq way, `taskiq worker app:broker`: taskiq's own receiver
then reads `JobBroker.listen()`, which runs this receiver's workers
(taskiq's receiver only waits and stops them). Or name it, `--receiver
queue_system.receiver:JobReceiver`, where `--receiver_arg concurrency=5` sets
every queue's concurrency, as WORKER_*_CONCURRENCY does for the mesh's worker
services.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Protocol, cast

from taskiq.abc.broker import AsyncBroker
from taskiq.abc.middleware import TaskiqMiddleware
from taskiq.message import TaskiqMessage
from taskiq.receiver import Receiver
from taskiq.result import TaskiqResult
from taskiq.utils import maybe_awaitable

from queue_system.context import JobContext
from queue_system.manager import QueueManager
from queue_system.results import ResultSink
from queue_system.tasks import HandlerFn, TaskSpec, task_spec
from queue_system.worker import Worker


class QueueBroker(Protocol):
    """What the receiver needs of its broker (queue_system.broker.JobBroker has it)."""

    manager: QueueManager
    results: ResultSink | None
    middlewares: list[TaskiqMiddleware]

    def tasks_of(self, queue: str) -> dict[str, tuple[HandlerFn, tuple[type[BaseException], ...]]]: ...


def _with_middlewares(
    name: str, fn: HandlerFn, middlewares: Sequence[TaskiqMiddleware], wants_ctx: bool
) -> HandlerFn:
    """Wrap a handler so taskiq's execute hooks run around it."""

    async def run(payload: Any, ctx: JobContext) -> Any:
        message = TaskiqMessage(
            task_id=ctx.job_id, task_name=name, labels={"queue": ctx.queue}, args=[payload], kwargs={}
        )
        for mw in middlewares:
            message = await maybe_awaitable(mw.pre_execute(message))
        started = time.perf_counter()
        try:
            value = await (fn(message.args[0], ctx) if wants_ctx else fn(message.args[0]))
        except Exception as exc:
            result: TaskiqResult[Any] = TaskiqResult(
                is_err=True, return_value=None, execution_time=time.perf_counter() - started, error=exc
            )
            for mw in middlewares:
                await maybe_awaitable(mw.on_error(message, result, exc))
            raise
        result = TaskiqResult(is_err=False, return_value=value, execution_time=time.perf_counter() - started)
        for mw in middlewares:
            await maybe_awaitable(mw.post_execute(message, result))
        return value

    return run


def _has_execute_hooks(mw: TaskiqMiddleware) -> bool:
    cls = type(mw)
    return any(
        getattr(cls, h) is not getattr(TaskiqMiddleware, h)
        for h in ("pre_execute", "post_execute", "on_error")
    )


class JobReceiver(Receiver):
    """Consumes the broker's queues with the tasks registered on it."""

    def __init__(
        self,
        broker: AsyncBroker,
        *args: Any,
        concurrency: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        if not hasattr(broker, "tasks_of"):
            raise TypeError(f"JobReceiver runs a queue_system.broker.JobBroker, not {type(broker).__name__}")
        # taskiq's own task limit is unused (each queue has its concurrency): set to quiet its warning
        kwargs.setdefault("max_async_tasks", 1)
        super().__init__(broker, *args, **kwargs)
        self.job_broker = cast(QueueBroker, broker)
        self.concurrency = int(concurrency) if concurrency else None
        self.workers: list[Worker] = []

    def specs(self, queue: str) -> dict[str, TaskSpec]:
        """The tasks of one queue as its Worker calls them (middlewares wrapped around)."""
        out = {}
        hooks = [mw for mw in self.job_broker.middlewares if _has_execute_hooks(mw)]
        for name, (fn, throws) in self.job_broker.tasks_of(queue).items():
            spec = task_spec(name, queue, fn, throws)
            if hooks:
                spec = TaskSpec(
                    name, queue, _with_middlewares(name, fn, hooks, spec.takes_context), True, throws
                )
            out[name] = spec
        return out

    async def start(self) -> None:
        """Start one Worker per queue of the broker."""
        manager = self.job_broker.manager
        for queue in manager.queues:
            self.workers.append(
                await manager.create_worker(
                    queue, self.specs(queue), concurrency=self.concurrency, results=self.job_broker.results
                )
            )

    @property
    def running(self) -> int:
        return sum(w.running for w in self.workers)

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop every queue at once: the grace period is shared, not added up per queue."""
        await asyncio.gather(*(w.stop(grace_s) for w in self.workers))

    async def listen(self, finish_event: asyncio.Event) -> None:
        """taskiq's entry point (`taskiq worker ... --receiver ...`): run until told to finish."""
        if self.run_startup:
            await self.broker.startup()
        await self.start()
        await finish_event.wait()
        await self.stop()
