"""`--grpc`'s baseline: a bare grpc.aio unary server, run as a child process of the bench.

    python -m bench.grpc_bare

It serves one method, `/jobmesh.queue.v1.QueueService/EnqueueJob`, through a
generic handler that neither decodes the request nor does any work: it answers
an empty message (an `EnqueueJobResponse` with no field set). No interceptors,
no Redis. It runs on the loop the services run on (uvloop when installed) and
settles the collector as they do, so the same client code sending the same
requests to it measures what grpc.aio alone costs on this machine. It prints
`{"port": N}` once it listens and serves until SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import grpc

from service_kit.gc_tuning import settle_gc

METHOD = "/jobmesh.queue.v1.QueueService/EnqueueJob"


class _Handler(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """Every call of METHOD answers b"" (an empty message); other methods are UNIMPLEMENTED."""

    def __init__(self) -> None:
        async def answer(request: bytes, context: Any) -> bytes:
            return b""

        self._handler = grpc.unary_unary_rpc_method_handler(answer)

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        return self._handler if handler_call_details.method == METHOD else None


async def serve() -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((_Handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    settle_gc()  # as every jobmesh service does once started (service_kit.server)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(json.dumps({"port": port}), flush=True)
    await stop.wait()
    await server.stop(0)


def main() -> None:
    try:
        import uvloop  # noqa: PLC0415 (optional, as in service_kit.server)
    except ImportError:
        asyncio.run(serve())
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(serve())


if __name__ == "__main__":
    main()
