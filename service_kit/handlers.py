"""Wrap the behaviour of a gRPC method handler, whatever its streaming shape.

Interceptors of `grpc.aio` only see `RpcMethodHandler`s; to act around a call
(time it, translate its exceptions) they must rebuild the handler around the
servicer's function. Every interceptor of jobmesh shares this one place that
knows the four shapes, and that a streaming servicer method may be an async
generator or a coroutine that writes with `context.write()`.

A service (service_kit.server) does not pay for that on every call: its
handlers are wrapped once per method (`WrappedOnce`), where grpc.aio's
interceptors would run their chain and rebuild each handler per call. Each
interceptor's per-method `wrap(handler, method)` is what its
`intercept_service` applies, so both ways behave the same.

grpc.aio decodes a request before any of that runs, and bytes that do not
decode end the call with UNKNOWN and a traceback in grpc's log. An interceptor
that admits requests (`wrap_handler(..., admit=...)`) gets a deserializer that
never raises: it passes an `Undecodable` on instead, for `admit` to refuse
with a proper status from inside the call.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import grpc
from google.protobuf.message import Message

Context = grpc.aio.ServicerContext[Any, Any]
# A servicer method: (request or request iterator, context) -> response | awaitable | iterator.
Behaviour = Callable[[Any, Context], Any]
# Runs `call` (the servicer method, bound to its request and context) and returns its answer.
UnaryAround = Callable[[Callable[[], Awaitable[Any]], Context], Awaitable[Any]]
# Same for responses that stream: yields what `call` yields.
StreamAround = Callable[[Callable[[], AsyncIterator[Any]], Context], AsyncIterator[Any]]
# Runs on each request (each message of a request stream) before the servicer: returns the
# request to serve or raises (inside UnaryAround/StreamAround, which may translate the error).
Admit = Callable[[Any], Any]
Deserializer = Callable[[bytes], Any]


@dataclass(frozen=True, slots=True)
class Undecodable:
    """What a tolerant deserializer passes on for bytes that do not decode: the type and why."""

    type_name: str
    reason: str


# upb's DecodeError texts, in words a caller can act on.
_DECODE_REASONS: Final = {
    "String field had bad UTF-8": "a string field holds invalid UTF-8",
    "Wire format was corrupt": "the bytes are not a valid protobuf encoding (corrupt or truncated)",
    "Exceeded upb_DecodeOptions_MaxDepth": "messages nest deeper than the protobuf decoder allows",
}


def decode_reason(exc: BaseException) -> str:
    """Why bytes did not decode, in one line without the type name the caller already sees."""
    text = str(exc).strip()
    if text.startswith("Error parsing message"):
        # upb: "Error parsing message with type 'pkg.Type': <what>"
        _, sep, what = text.partition(": ")
        text = what.strip() if sep else ""
    text = text.rstrip(".")
    return _DECODE_REASONS.get(text, text or f"{type(exc).__name__}")


def _type_name(deserialize: Deserializer) -> str:
    owner = getattr(deserialize, "__self__", None)  # Message.FromString is a bound classmethod
    if isinstance(owner, type) and issubclass(owner, Message):
        return str(owner.DESCRIPTOR.full_name)
    return "the request message"


def tolerant(deserialize: Deserializer) -> Deserializer:
    """`deserialize`, but bytes that do not decode give an `Undecodable` instead of an exception."""
    type_name = _type_name(deserialize)

    def run(data: bytes) -> Any:
        try:
            return deserialize(data)
        except Exception as exc:  # DecodeError, and whatever else a decoder raises on bad bytes
            return Undecodable(type_name, decode_reason(exc))

    return run


async def _admitted(requests: AsyncIterator[Any], admit: Admit) -> AsyncIterator[Any]:
    async for request in requests:
        yield admit(request)


def _admit(request: Any, admit: Admit | None, streaming: bool) -> Any:
    if admit is None:
        return request
    return _admitted(request, admit) if streaming else admit(request)


async def _call_unary(
    behaviour: Behaviour, request: Any, context: Context, admit: Admit | None = None, streaming: bool = False
) -> Any:
    result = behaviour(_admit(request, admit, streaming), context)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _call_stream(
    behaviour: Behaviour, request: Any, context: Context, admit: Admit | None = None, streaming: bool = False
) -> AsyncIterator[Any]:
    result = behaviour(_admit(request, admit, streaming), context)
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
    handler: grpc.RpcMethodHandler[Any, Any],
    unary: UnaryAround,
    stream: StreamAround,
    *,
    admit: Admit | None = None,
) -> grpc.RpcMethodHandler[Any, Any]:
    """A handler like `handler` whose behaviour runs inside `unary` or `stream`.

    With `admit`, each request (each message of a request stream) goes through
    `admit` inside the call, before the servicer sees it, and bytes that do not
    decode reach `admit` as an `Undecodable` (the deserializer never raises).
    """
    deserialize, serialize = handler.request_deserializer, handler.response_serializer
    if admit is not None and deserialize is not None:
        deserialize = tolerant(deserialize)
    streaming = handler.request_streaming
    # grpc-stubs does not declare the behaviour attributes of RpcMethodHandler.
    h: Any = handler

    def around_unary(behaviour: Behaviour) -> Callable[..., Awaitable[Any]]:
        if not streaming and inspect.iscoroutinefunction(behaviour):
            # The usual shape, told apart once per method rather than on every call: one request,
            # a servicer that returns a coroutine. `call` hands that coroutine straight to `unary`,
            # without `_call_unary`'s extra coroutine and its per-call awaitable test; `admit`
            # still runs inside `unary`, where its errors are translated.
            async def run_coroutine(request: Any, context: Context) -> Any:
                return await unary(
                    lambda: behaviour(request if admit is None else admit(request), context), context
                )

            return run_coroutine

        async def run(request: Any, context: Context) -> Any:
            return await unary(lambda: _call_unary(behaviour, request, context, admit, streaming), context)

        return run

    def around_stream(behaviour: Behaviour) -> Callable[..., AsyncIterator[Any]]:
        async def run(request: Any, context: Context) -> AsyncIterator[Any]:
            async for item in stream(
                lambda: _call_stream(behaviour, request, context, admit, streaming), context
            ):
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


# What an interceptor does to one method's handler: (handler, full method name) -> handler.
# (quoted: grpc's RpcMethodHandler is generic only in its stubs)
Wrap = Callable[["grpc.RpcMethodHandler[Any, Any]", str], "grpc.RpcMethodHandler[Any, Any]"]


class WrappedOnce(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """`handlers`' method handlers, each wrapped by `wrap` the first time its method is called and
    kept: what interceptors do, without their per-call chain (a wrapper depends only on the
    method, never on the call)."""

    def __init__(self, handlers: Sequence[grpc.GenericRpcHandler], wrap: Wrap) -> None:  # type: ignore[type-arg]
        self._handlers = list(handlers)
        self._wrap = wrap
        self._wrapped: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is not None:
            return wrapped
        for generic in self._handlers:
            handler = generic.service(handler_call_details)
            if handler is not None:
                wrapped = self._wrapped[method] = self._wrap(handler, method)
                return wrapped
        return None  # unknown method: grpc answers UNIMPLEMENTED


class HandlerCollector:
    """Stands in for a server while services register (`add_*Servicer_to_server(servicer, collector)`,
    reflection, health): keeps their generic handlers, to be served wrapped once (`WrappedOnce`).
    Pre-registered method handlers are dropped: each comes with a generic handler for the same
    methods, and registered ones would take precedence over the wrapped ones."""

    def __init__(self) -> None:
        self.handlers: list[grpc.GenericRpcHandler] = []  # type: ignore[type-arg]

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:  # type: ignore[type-arg]
        self.handlers.extend(handlers)

    def add_registered_method_handlers(self, service: str, handlers: object) -> None:
        """Dropped: see the class docstring."""
