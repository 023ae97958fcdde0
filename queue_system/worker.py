"""`Worker`: runs a broker's tasks on its queues (the receive side of taskiq's model).

One `QueueConsumer` per queue, each with the queue's concurrency (or a
service-wide override such as WORKER_TRADING_CONCURRENCY) and its shared rate
limit. taskiq middlewares' `pre_execute`, `post_execute` and `on_error` run
around every handler when the broker has any.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from taskiq.abc.middleware import TaskiqMiddleware
from taskiq.message import TaskiqMessage
from taskiq.result import TaskiqResult
from taskiq.utils import maybe_awaitable

from queue_system.broker import JobBroker
from queue_system.consumer import QueueConsumer
from queue_system.context import JobContext
from queue_system.tasks import HandlerFn, TaskSpec, task_spec


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


class Worker:
    """Consumes `queues` with the tasks registered on `broker`."""

    def __init__(
        self,
        broker: JobBroker,
        queues: Sequence[str],
        *,
        concurrency: int | None = None,
        concurrency_of: Callable[[str], int | None] | None = None,
    ) -> None:
        self.broker = broker
        self.queues = list(queues)
        self.concurrency = concurrency
        self.concurrency_of = concurrency_of
        self.consumers: list[QueueConsumer] = []

    def specs(self, queue: str) -> dict[str, TaskSpec]:
        out = {}
        hooks = [mw for mw in self.broker.middlewares if _has_execute_hooks(mw)]
        for name, fn in self.broker.tasks_of(queue).items():
            spec = task_spec(name, queue, fn)
            if hooks:
                spec = TaskSpec(name, queue, _with_middlewares(name, fn, hooks, spec.takes_context), True)
            out[name] = spec
        return out

    async def start(self) -> None:
        manager = self.broker.manager
        for queue in self.queues:
            override = self.concurrency or (self.concurrency_of(queue) if self.concurrency_of else None)
            self.consumers.append(await manager.create_worker(queue, self.specs(queue), concurrency=override))

    @property
    def running(self) -> int:
        return sum(c.running for c in self.consumers)

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop every queue at once: the grace period is shared, not added up per queue."""
        await asyncio.gather(*(c.stop(grace_s) for c in self.consumers))


def _has_execute_hooks(mw: TaskiqMiddleware) -> bool:
    cls = type(mw)
    return any(
        getattr(cls, h) is not getattr(TaskiqMiddleware, h)
        for h in ("pre_execute", "post_execute", "on_error")
    )
