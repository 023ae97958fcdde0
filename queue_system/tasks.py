"""A registered handler: the function, its queue, whether it wants a JobContext, what it never retries."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from queue_system.context import JobContext

HandlerFn = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """How a worker calls one task: `fn(payload)` or `fn(payload, ctx)`."""

    name: str
    queue: str
    fn: HandlerFn
    takes_context: bool
    # Exception types this task never retries (dramatiq's `throws`): the job is dead-lettered at once.
    throws: tuple[type[BaseException], ...] = ()


def task_spec(name: str, queue: str, fn: HandlerFn, throws: tuple[type[BaseException], ...] = ()) -> TaskSpec:
    """Inspect `fn` once, at registration, so no job pays for it."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(f"task {name!r}: handler must be an async function")
    try:
        hints = get_type_hints(fn)
    except Exception:  # unresolvable annotations: fall back to the parameter count
        hints = {}
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "return"]
    takes_context = any(hints.get(p.name) is JobContext for p in params) or (not hints and len(params) >= 2)
    return TaskSpec(name, queue, fn, takes_context, throws)
