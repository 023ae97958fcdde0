"""gRPC server metrics, named as go-grpc-prometheus names them so existing dashboards work.

`MetricsInterceptor` counts every call when it starts and when it is handled
(by final status code) and times it. It must be the outermost interceptor, so
that the code it records is the one the client receives, after
`ErrorInterceptor` has translated exceptions into statuses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

import grpc
from prometheus_client import Counter, Histogram

from service_kit.handlers import Context, rpc_type, split_method, wrap_handler

_LABELS: Final = ("grpc_type", "grpc_service", "grpc_method")

STARTED: Final = Counter(
    "grpc_server_started_total", "RPCs started on the server.", _LABELS
)
HANDLED: Final = Counter(
    "grpc_server_handled_total", "RPCs completed on the server, by status code.", (*_LABELS, "grpc_code")
)
HANDLING_SECONDS: Final = Histogram(
    "grpc_server_handling_seconds", "Time from an RPC's start to its status, in seconds.", _LABELS
)
MSG_SENT: Final = Counter(
    "grpc_server_msg_sent_total", "Stream messages sent by the server.", _LABELS
)


def final_code(context: Context, error: BaseException | None) -> str:
    """The code the client gets: the one set on the context, else what the error implies."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if error is None:
        return grpc.StatusCode.OK.name
    if isinstance(error, (asyncio.CancelledError, GeneratorExit)):
        return grpc.StatusCode.CANCELLED.name
    return grpc.StatusCode.UNKNOWN.name


def with_metrics(
    handler: grpc.RpcMethodHandler[Any, Any], full_method: str
) -> grpc.RpcMethodHandler[Any, Any]:
    """`handler` recording grpc_server_* metrics; each series' child is looked up once per method
    (and per code), not per call."""
    service, method = split_method(full_method)
    labels = (rpc_type(handler), service, method)
    started = STARTED.labels(*labels)
    seconds = HANDLING_SECONDS.labels(*labels)
    handled: dict[str, Any] = {}

    def finish(context: Context, start: float, error: BaseException | None) -> None:
        seconds.observe(time.perf_counter() - start)
        code = final_code(context, error)
        counter = handled.get(code)
        if counter is None:
            counter = handled[code] = HANDLED.labels(*labels, code)
        counter.inc()

    async def unary(call: Callable[[], Awaitable[Any]], context: Context) -> Any:
        started.inc()
        start = time.perf_counter()
        try:
            result = await call()
        except BaseException as exc:
            finish(context, start, exc)
            raise
        finish(context, start, None)
        return result

    async def stream(call: Callable[[], AsyncIterator[Any]], context: Context) -> AsyncIterator[Any]:
        started.inc()
        start = time.perf_counter()
        sent = MSG_SENT.labels(*labels)
        try:
            async for item in call():
                sent.inc()
                yield item
        except BaseException as exc:
            finish(context, start, exc)
            raise
        finish(context, start, None)

    return wrap_handler(handler, unary, stream)


class MetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Records grpc_server_* metrics for every served method (`with_metrics`)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return with_metrics(handler, handler_call_details.method)
