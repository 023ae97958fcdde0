"""trading-svc's test mesh: TradingService on a real aio server, the strategy driver, and
worker-trading's real tasks in-process (JobReceiver), all on the test's Redis prefix."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from google.protobuf import json_format

from jobmesh.trading.v1 import trading_service_pb2 as pb
from jobmesh.trading.v1 import trading_service_pb2_grpc as pb_grpc
from queue_system.broker import JobBroker
from queue_system.catalog import TRADING_QUEUES
from queue_system.manager import QueueManager
from queue_system.receiver import JobReceiver
from queue_system.settings import Settings, queue_env_stem
from queue_system.stream_hub import StreamHub
from service_kit.rich_errors import ErrorInterceptor
from tests.queue_system.conftest import _await_chain, wait_until
from trading_svc.driver import StrategyDriver
from trading_svc.fsm import state_name
from trading_svc.runner import StrategyRunner
from trading_svc.servicers.trading import TradingServicer
from trading_svc.store import StrategyStore
from worker_trading.exchange import Exchange
from worker_trading.tasks import register_tasks

SEEN_WITHIN = 60.0  # generous: a loaded CI machine
STOP_WITHIN = 20.0


@dataclass
class Mesh:
    stub: pb_grpc.TradingServiceStub
    runner: StrategyRunner
    settings: Settings
    receivers: list[JobReceiver] = field(default_factory=list)
    driving: asyncio.Task[None] | None = None

    def start_driving(self) -> None:
        """trading-svc's driver (events and sweep) on this mesh's runner."""
        self.driving = asyncio.create_task(StrategyDriver(self.runner, sweep_every_s=0.2).run())

    async def stop_driving(self) -> None:
        if self.driving is not None:
            self.driving.cancel()
            done, _ = await asyncio.wait({self.driving}, timeout=STOP_WITHIN)
            if not done:  # say where it is stuck instead of hanging the run
                stacks = [f"{t.get_name()}: {_await_chain(t.get_coro())}" for t in asyncio.all_tasks()]
                raise AssertionError("the driver ignored its cancellation:\n" + "\n".join(stacks))

    async def start_worker(self, exchange: Exchange | None = None) -> JobBroker:
        broker = JobBroker(self.settings, service="worker-trading", queues=TRADING_QUEUES)
        register_tasks(broker, exchange)
        await broker.startup()
        receiver = JobReceiver(broker)
        await receiver.start()
        self.receivers.append(receiver)
        return broker

    async def state(self, sid: str) -> str:
        got = await self.stub.GetStrategy(pb.GetStrategyRequest(strategy_id=sid))
        return state_name(got.strategy.state)

    async def reaches(self, sid: str, *states: str) -> str:
        seen = ""

        async def there() -> bool:
            nonlocal seen
            seen = await self.state(sid)
            return seen in states

        await wait_until(there, within=SEEN_WITHIN, every=0.05)
        return seen

    async def path(self, sid: str) -> list[str]:
        history = await self.stub.GetStrategyHistory(pb.GetStrategyHistoryRequest(strategy_id=sid))
        return [state_name(history.transitions[0].from_state)] + [
            state_name(t.to_state) for t in history.transitions
        ]


@pytest.fixture
async def mesh(make_settings: Callable[..., Settings], redis_client: aioredis.Redis) -> AsyncIterator[Mesh]:
    # the seed's rate limits (5 risk analyses a minute, ...) are the product's, not the tests'
    settings = make_settings(**{f"{queue_env_stem(q)}_RATE_LIMIT": "none" for q in TRADING_QUEUES})
    manager = QueueManager(settings, service="trading-svc", queues=TRADING_QUEUES)
    await manager.initialize()
    runner = StrategyRunner(StrategyStore(manager.client, settings.queue_prefix), manager)
    hub = StreamHub(manager.client)
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    pb_grpc.add_TradingServiceServicer_to_server(TradingServicer(runner, hub), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    m = Mesh(pb_grpc.TradingServiceStub(channel), runner, settings)
    m.start_driving()
    try:
        yield m
    finally:
        for r in m.receivers:
            await r.stop(1)
            await r.broker.shutdown()
        await m.stop_driving()
        await channel.close()
        await server.stop(0)
        await hub.close()
        await manager.close(1)


def deploy(body: dict[str, Any], request_id: str = "") -> pb.DeployStrategyRequest:
    req = json_format.ParseDict(body, pb.DeployStrategyRequest())
    req.request_id = request_id
    return req
