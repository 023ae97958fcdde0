"""TradingService over the wire: deploy, stop, inspect and watch trading strategies.

Thin: each RPC checks its request's shape, calls the strategy runner or store
(`trading_svc/runner.py`, `store.py`) and encodes the answer. Mutating RPCs
answer a call repeated with the same `request_id` with their first answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

import grpc

from jobmesh.trading.v1 import strategy_pb2 as spb
from jobmesh.trading.v1 import trading_service_pb2 as pb
from jobmesh.trading.v1 import trading_service_pb2_grpc as pb_grpc
from queue_system.catalog import TRADING_QUEUES
from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.reads import DEFAULT_PAGE, MAX_PAGE
from queue_system.stream_hub import StreamHub
from queue_system.streams import Follow
from queue_system.tokens import page_size_violations
from service_kit.auth import current_caller
from service_kit.idempotency import Idempotent
from service_kit.watch import watch
from trading_svc import deploys, fsm
from trading_svc.runner import StrategyRunner
from trading_svc.store import Filters

Ctx = grpc.aio.ServicerContext[Any, Any]
RECENT_HISTORY: Final = 20


def _by(reason: str) -> str:
    """`reason`, naming the caller when the service authenticates: a strategy's history then says
    who stopped it, beside the audit stream."""
    caller = current_caller()
    return f"{reason} (by {caller})" if caller else reason


def _required(value: str, field: str) -> None:
    if not value:
        raise InvalidArgumentError([FieldViolation(field, "required")])


def _page_size(size: int) -> int:
    bad = page_size_violations(size, MAX_PAGE)
    if bad:
        raise InvalidArgumentError(bad)
    return size or DEFAULT_PAGE


def _transition(name: str, entry_id: bytes, fields: Mapping[bytes, bytes]) -> spb.StrategyTransition:
    """A history entry's transition: one function for every watch, so the hub parses an entry once."""
    return spb.StrategyTransition.FromString(fields[b"transition"])


def _transition_response(token: str, t: spb.StrategyTransition) -> pb.WatchStrategyResponse:
    """One function for every watch: the hub makes each change's message once for all its watchers."""
    return pb.WatchStrategyResponse(resume_token=token, transition=t)


class TradingServicer(pb_grpc.TradingServiceServicer):
    """jobmesh.trading.v1.TradingService over one StrategyRunner; watches read through `hub`."""

    def __init__(self, runner: StrategyRunner, hub: StreamHub) -> None:
        self.runner = runner
        self.hub = hub
        self.store = runner.store
        self._once = Idempotent(runner.manager.client, runner.manager.settings.queue_prefix, "TradingService")

    async def DeployStrategy(
        self, request: pb.DeployStrategyRequest, context: Ctx
    ) -> pb.DeployStrategyResponse:
        draft = deploys.draft(request)

        async def deploy() -> pb.DeployStrategyResponse:
            deployed = await self.runner.deploy(draft, request.request_id, by=current_caller() or "")
            return pb.DeployStrategyResponse(strategy=deployed)

        return await self._once("DeployStrategy", request.request_id, pb.DeployStrategyResponse, deploy)

    async def StopStrategy(self, request: pb.StopStrategyRequest, context: Ctx) -> pb.StopStrategyResponse:
        _required(request.strategy_id, "strategy_id")

        async def stop() -> pb.StopStrategyResponse:
            reason = _by(request.reason or "stop requested")
            stopped = await self.runner.stop(request.strategy_id, reason)
            return pb.StopStrategyResponse(strategy=stopped.strategy)

        return await self._once("StopStrategy", request.request_id, pb.StopStrategyResponse, stop)

    async def GetStrategy(self, request: pb.GetStrategyRequest, context: Ctx) -> pb.GetStrategyResponse:
        _required(request.strategy_id, "strategy_id")
        stored = await self.runner.get(request.strategy_id)
        out = await self.runner.outcome(stored.awaiting)
        queues = sorted({ref.partition("/")[0] for ref in stored.awaiting})
        return pb.GetStrategyResponse(
            strategy=stored.strategy,
            recent_history=await self.store.recent_history(request.strategy_id, RECENT_HISTORY),
            queue_status=pb.StrategyQueueStatus(related_queues=queues, total_related_jobs=out.waiting),
        )

    async def ListStrategies(
        self, request: pb.ListStrategiesRequest, context: Ctx
    ) -> pb.ListStrategiesResponse:
        size = _page_size(request.page_size)
        bad = [
            FieldViolation(f"states[{i}]", "must be a strategy state (not UNSPECIFIED)")
            for i, s in enumerate(request.states)
            if s == spb.STRATEGY_STATE_UNSPECIFIED or s not in spb.StrategyState.values()
        ]
        if bad:
            raise InvalidArgumentError(bad)
        filters = Filters(
            states=tuple(fsm.state_name(s) for s in request.states),
            strategy_name=request.strategy_name,
            exchange=request.exchange,
            symbol=request.symbol,
        )
        ids, token = await self.store.page(filters, size, request.page_token)
        return pb.ListStrategiesResponse(strategies=await self.store.get_many(ids), next_page_token=token)

    async def GetStrategyHistory(
        self, request: pb.GetStrategyHistoryRequest, context: Ctx
    ) -> pb.GetStrategyHistoryResponse:
        _required(request.strategy_id, "strategy_id")
        await self.runner.get(request.strategy_id)
        transitions, token = await self.store.history(
            request.strategy_id, _page_size(request.page_size), request.page_token
        )
        return pb.GetStrategyHistoryResponse(transitions=transitions, next_page_token=token)

    async def WatchStrategy(
        self, request: pb.WatchStrategyRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchStrategyResponse]:
        _required(request.strategy_id, "strategy_id")
        sid = request.strategy_id
        await self.runner.get(sid)

        async def snapshot() -> spb.Strategy:
            return (await self.runner.get(sid)).strategy

        async for response in watch(
            self.hub,
            Follow({sid: self.store.keys.history(sid)}, _transition),
            request.resume_token,
            snapshot=snapshot,
            first=lambda token, s: pb.WatchStrategyResponse(resume_token=token, snapshot=s),
            then=_transition_response,
        ):
            yield response

    async def GetSystemStatus(
        self, request: pb.GetSystemStatusRequest, context: Ctx
    ) -> pb.GetSystemStatusResponse:
        manager = self.runner.manager
        counts = await self.store.count_by_state(fsm.STATES)
        answer = pb.GetSystemStatusResponse(
            queues=[await manager.get_queue_stats(q) for q in TRADING_QUEUES],
            strategies=[pb.StrategyStateCount(state=fsm.state_enum(s), count=n) for s, n in counts.items()],
            redis_connected=bool(await manager.client.ping()),
        )
        answer.at.GetCurrentTime()
        return answer

    async def EmergencyStopAll(
        self, request: pb.EmergencyStopAllRequest, context: Ctx
    ) -> pb.EmergencyStopAllResponse:
        _required(request.reason, "reason")

        async def stop_all() -> pb.EmergencyStopAllResponse:
            return pb.EmergencyStopAllResponse(
                stopped_strategy_ids=await self.runner.emergency_stop_all(_by(request.reason))
            )

        return await self._once("EmergencyStopAll", request.request_id, pb.EmergencyStopAllResponse, stop_all)
