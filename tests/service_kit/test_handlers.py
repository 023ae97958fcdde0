"""A service's handlers are wrapped once per method, not once per call, and answer as interceptors would."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from service_kit.handlers import HandlerCollector, WrappedOnce, wrap_handler


class _Details:
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata: tuple[tuple[str, str], ...] = ()


async def _answer(request: Any, context: Any) -> bytes:
    return b""


def _generic(methods: dict[str, grpc.RpcMethodHandler[Any, Any]]) -> grpc.GenericRpcHandler:  # type: ignore[type-arg]
    return grpc.method_handlers_generic_handler("pkg.Svc", methods)


def test_each_method_is_wrapped_once_and_kept() -> None:
    a = grpc.unary_unary_rpc_method_handler(_answer)
    b = grpc.unary_unary_rpc_method_handler(_answer)
    wraps: list[str] = []

    def wrap(handler: grpc.RpcMethodHandler[Any, Any], method: str) -> grpc.RpcMethodHandler[Any, Any]:
        wraps.append(method)
        return grpc.unary_unary_rpc_method_handler(_answer)

    served = WrappedOnce([_generic({"A": a, "B": b})], wrap)
    first = served.service(_Details("/pkg.Svc/A"))
    assert first is not None and first is not a
    for _ in range(3):
        assert served.service(_Details("/pkg.Svc/A")) is first
    assert served.service(_Details("/pkg.Svc/B")) is not None
    assert wraps == ["/pkg.Svc/A", "/pkg.Svc/B"]
    assert served.service(_Details("/pkg.Svc/Nope")) is None  # grpc answers UNIMPLEMENTED
    assert wraps == ["/pkg.Svc/A", "/pkg.Svc/B"]


def test_the_collector_keeps_generic_handlers_and_drops_registered_ones() -> None:
    collector = HandlerCollector()
    generic = _generic({"A": grpc.unary_unary_rpc_method_handler(_answer)})
    collector.add_generic_rpc_handlers((generic,))
    collector.add_registered_method_handlers("pkg.Svc", {"A": grpc.unary_unary_rpc_method_handler(_answer)})
    assert collector.handlers == [generic]


async def test_a_coroutine_servicer_and_a_plain_one_run_inside_the_around_with_admit_inside_too() -> None:
    """Both shapes of unary servicer (wrap_handler tells them apart once per method) run inside
    `unary`, and `admit` too: what it raises reaches the around, which may translate it."""
    seen: list[str] = []

    async def coroutine_servicer(request: Any, context: Any) -> str:
        return f"async {request}"

    def plain_servicer(request: Any, context: Any) -> str:
        return f"plain {request}"

    def admit(request: Any) -> Any:
        if request == "bad":
            raise ValueError("refused")
        return request.upper()

    async def around(call: Callable[[], Awaitable[Any]], context: Any) -> Any:
        seen.append("in")
        try:
            return await call()
        except ValueError as exc:
            return f"translated {exc}"

    async def no_stream(call: Callable[[], AsyncIterator[Any]], context: Any) -> AsyncIterator[Any]:
        yield None  # pragma: no cover (unary methods only)

    for servicer, shape in ((coroutine_servicer, "async"), (plain_servicer, "plain")):
        handler = wrap_handler(grpc.unary_unary_rpc_method_handler(servicer), around, no_stream, admit=admit)
        run: Any = handler.unary_unary
        assert await run("ok", None) == f"{shape} OK"
        assert await run("bad", None) == "translated refused"
        unadmitted: Any = wrap_handler(grpc.unary_unary_rpc_method_handler(servicer), around, no_stream)
        assert await unadmitted.unary_unary("ok", None) == f"{shape} ok"
    assert seen == ["in"] * 6
