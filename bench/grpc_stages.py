"""trading_svc with a stopwatch around each stage of a call: `--grpc`'s per-stage breakdown.

    python -m bench.grpc_stages OUT.json

The service runs exactly as `python -m trading_svc` does (`app.build` served by
`service_kit.server.run_service`), except that, for the one method
`STAGED_METHOD`, the functions each of its calls passes through are wrapped in
a stopwatch (wall time, inclusive of what they await), and an interceptor (the
service itself runs none: its wrappers are built once per method) times grpc
finding the handler, the request's decoding, the handler, and the response's
encoding. With one call in flight the
wall time of a stage is that call's; nested stages are inside their parents
(`STAGES` names each stage's parent). When the service stops (SIGTERM) the
totals and counts are written to OUT.json as `{stage: [seconds, calls]}`.

The stopwatches add their own cost (a few µs a call): the breakdown says where
the time goes, the figures come from the un-instrumented service.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

import grpc
import redis.asyncio.client

import queue_system.manager
import service_kit.rich_errors
import service_kit.server
from queue_system.link import RedisLink
from queue_system.producer import Producer
from service_kit.idempotency import Idempotent
from trading_svc.app import build
from trading_svc.servicers.queue import QueueServicer

STAGED_METHOD: Final = "/jobmesh.queue.v1.QueueService/EnqueueJob"

# stage -> (its parent stage, what it is); the order is the report's.
STAGES: Final[dict[str, tuple[str, str]]] = {
    "chain": ("", "finding the handler (grpc, per call; the kit wraps each method once)"),
    "decode": ("", "request decoding (tolerant deserializer)"),
    "handler": ("", "the method handler grpc awaits (the kit's wrappers + servicer)"),
    "admit": ("handler", "bounds check of the request (the rich-error wrapper's admit)"),
    "servicer": ("handler", "QueueServicer.EnqueueJob"),
    "idempotency": ("servicer", "request-id handling (Idempotent: check, stored answer)"),
    "validation": ("idempotency", "job validation (checked_job)"),
    "encode": ("idempotency", "envelope encoding (Producer.encode)"),
    "redis": ("idempotency", "Redis commands (the producer's link; redis-py's pool for the rest)"),
    "serialize": ("", "response encoding"),
}

totals: dict[str, list[float]] = {name: [0.0, 0] for name in STAGES}
# Set inside a call of STAGED_METHOD (its task's context): only what that call runs is timed, not
# what the service's background tasks (the stream hub's blocking reads...) run meanwhile.
_staged: Final[contextvars.ContextVar[bool]] = contextvars.ContextVar("staged", default=False)


def _add(stage: str, t0: float) -> None:
    entry = totals[stage]
    entry[0] += time.perf_counter() - t0
    entry[1] += 1


def _clocked(stage: str, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`fn` with a stopwatch that always runs (for what grpc calls outside a call's task)."""

    def run(arg: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(arg)
        finally:
            _add(stage, t0)

    return run


def _timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            if not _staged.get():
                return await fn(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                _add(stage, t0)

        return run_async

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not _staged.get():
            return fn(*args, **kwargs)
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            _add(stage, t0)

    return run


class StageInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Outermost: times the rest of the chain, the request's decoding, the handler and the response's
    encoding."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        if handler_call_details.method != STAGED_METHOD:
            return await continuation(handler_call_details)
        t0 = time.perf_counter()
        handler = await continuation(handler_call_details)
        _add("chain", t0)
        h: Any = handler
        inner, decode, serialize = h.unary_unary, h.request_deserializer, h.response_serializer

        async def run(request: Any, context: Any) -> Any:
            _staged.set(True)
            t = time.perf_counter()
            try:
                return await inner(request, context)
            finally:
                _add("handler", t)

        # decoding and encoding run outside the call's task (no `_staged`): clocked every time
        return grpc.unary_unary_rpc_method_handler(
            run, _clocked("decode", decode), _clocked("serialize", serialize)
        )


def _wrap(owner: object, name: str, stage: str) -> None:
    setattr(owner, name, _timed(stage, getattr(owner, name)))


def instrument() -> None:
    """Wrap each stage's function where the call path looks it up."""
    _wrap(service_kit.rich_errors, "admit", "admit")
    _wrap(QueueServicer, "EnqueueJob", "servicer")
    _wrap(Idempotent, "__call__", "idempotency")
    _wrap(queue_system.manager, "checked_job", "validation")
    _wrap(Producer, "encode", "encode")
    _wrap(redis.asyncio.client.Redis, "execute_command", "redis")
    _wrap(RedisLink, "call", "redis")
    make_server = grpc.aio.server

    def server(*args: Any, **kwargs: Any) -> Any:
        kwargs["interceptors"] = [StageInterceptor(), *kwargs.get("interceptors", ())]
        return make_server(*args, **kwargs)

    grpc.aio.server = server  # service_kit.server looks it up at each start


def main() -> None:
    out = Path(sys.argv[1])
    instrument()
    try:
        service_kit.server.run_service("trading_svc", build)
    finally:
        out.write_text(json.dumps(totals))


if __name__ == "__main__":
    main()
