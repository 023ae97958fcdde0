"""Wrap the behaviour of a gRPC method handler, whatever its streaming shape.

Interceptors of `grpc.aio` only see `RpcMethodHandler`s; to act around a call
(time it, translate its exceptions) they must rebuild the handler around the
servicer's function. Every interceptor of jobmesh shares this one place that
knows the four shapes, and that a streaming servicer method may be an async
generator or a coroutine that writes with `context.write()`.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

Context = grpc.aio.ServicerContext[Any, Any]
# A servicer method: (request or request iterator, context) -> response | awaitable | iterator.
Behaviour = Callable[[Any, Context], Any]
# Runs `call` (the servicer method, bound to its request and context) and returns its answer.
UnaryAround = Callable[[Callable[[], Awaitable[Any]], Context], Awaitable[Any]]
# Same for responses that stream: yields what `call` yields.
StreamAround = Callable[[Callable[[], AsyncIterator[Any]], Context], AsyncIterator[Any]]


async def _call_unary(behaviour: Behaviour, request: Any, context: Context) -> Any:
    result = behaviour(request, context)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _call_stream(
    behaviour: Behaviour, request: Any, context: Context
) -> AsyncIterator[Any]:
    result = behaviour(request, context)
    if inspect.isawaitable(result):  # writer style: the method sends with context.write()
        await result
        return
    if hasattr(result, "__aiter__"):
        async for item in result:
            yield item
    else:
        for item in result:
            yield item


def rpc_type(handler: grpc.RpcMethodHandler[Any, Any]) -> str:
    """The grpc_type label: unary, client_stream, server_stream or bidi_stream."""
    if handler.request_streaming and handler.response_streaming:
        return "bidi_stream"
    if handler.request_streaming:
        return "client_stream"
    if handler.response_streaming:
        return "server_stream"
    return "unary"


def wrap_handler(
    handler: grpc.RpcMethodHandler[Any, Any], unary: UnaryAround, stream: StreamAround
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler like `handler` whose behaviour runs inside `unary` or `stream`."""
    deserialize, serialize = handler.request_deserializer, handler.response_serializer
    # grpc-stubs does not declare the behaviour attributes of RpcMethodHandler.
    h: Any = handler

    def around_unary(behaviour: Behaviour) -> Callable[..., Awaitable[Any]]:
        async def run(request: Any, context: Context) -> Any:
            return await unary(lambda: _call_unary(behaviour, request, context), context)

        return run

    def around_stream(behaviour: Behaviour) -> Callable[..., AsyncIterator[Any]]:
        async def run(request: Any, context: Context) -> AsyncIterator[Any]:
            async for item in stream(lambda: _call_stream(behaviour, request, context), context):
                yield item

        return run

    if h.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(around_unary(h.unary_unary), deserialize, serialize)
    if h.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(around_stream(h.unary_stream), deserialize, serialize)
    if h.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(around_unary(h.stream_unary), deserialize, serialize)
    if h.stream_stream is not None:
        return grpc.stream_stream_rpc_method_handler(around_stream(h.stream_stream), deserialize, serialize)
    return handler


def split_method(full_method: str) -> tuple[str, str]:
    """'/jobmesh.queue.v1.QueueService/GetJob' -> ('jobmesh.queue.v1.QueueService', 'GetJob')."""
    service, _, method = full_method.lstrip("/").rpartition("/")
    return service or "unknown", method or "unknown"
