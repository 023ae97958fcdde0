"""A service's handlers are wrapped once per method, not once per call, and answer as interceptors would."""

from __future__ import annotations

from typing import Any

import grpc

from service_kit.handlers import HandlerCollector, WrappedOnce


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
