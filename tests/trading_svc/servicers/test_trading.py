"""TradingService over the wire: deploy, watch, stop, list; strategies driven by worker-trading's
real tasks (the mesh of tests/trading_svc/conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.trading.v1 import strategy_pb2 as spb
from jobmesh.trading.v1 import trading_service_pb2 as pb
from queue_system.catalog import TRADING_QUEUES
from tests.trading_svc.conftest import SEEN_WITHIN, Mesh, deploy
from trading_svc.fsm import state_name

DRY_RUN = {"strategyName": "test", "exchange": "binance", "symbol": "BTC/USD"}
MOMENTUM = {
    "strategyName": "momentum",
    "exchange": "kraken",
    "symbol": "ETH/USD",
    "riskLimits": {"maxPositionSize": 1000, "maxLoss": 100},
}


def violations(err: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return {v.field: v.description for v in bad.field_violations}
    raise AssertionError("no BadRequest detail")


async def all_jobs(mesh: Mesh) -> int:
    n = 0
    for q in TRADING_QUEUES:
        c = (await mesh.runner.manager.get_queue_stats(q)).counts
        n += c.waiting + c.prioritized + c.delayed + c.paused + c.active + c.completed + c.failed
    return n


async def test_the_dry_run_walks_every_state_and_places_nothing(mesh: Mesh) -> None:
    await mesh.start_worker()
    deployed = (await mesh.stub.DeployStrategy(deploy(DRY_RUN))).strategy
    assert deployed.strategy_id.startswith("strategy_") and state_name(deployed.state) == "ANALYZING"
    sid = deployed.strategy_id
    assert await mesh.reaches(sid, "COMPLETED", "IDLE") == "COMPLETED"
    assert await mesh.path(sid) == ["IDLE", "ANALYZING", "PREPARING", "EXECUTING", "MONITORING", "COMPLETED"]
    done = await mesh.stub.GetStrategy(pb.GetStrategyRequest(strategy_id=sid))
    meta = json_format.MessageToDict(done.strategy.metadata)
    assert meta["ordersPlaced"] == 0 and meta["totalProfit"] == "0" and meta["signal"] == "hold"
    assert "dry run" in meta["refused"]
    assert done.strategy.progress == 100.0 and done.queue_status.total_related_jobs == 0
    versions = [t.version for t in done.recent_history]
    assert versions == sorted(versions) and len(set(versions)) == len(versions) == 5


async def test_a_watch_sees_each_transition_once_and_resumes_after_the_last_seen(mesh: Mesh) -> None:
    deployed = (await mesh.stub.DeployStrategy(deploy(DRY_RUN))).strategy
    sid = deployed.strategy_id
    call = mesh.stub.WatchStrategy(pb.WatchStrategyRequest(strategy_id=sid))
    first = await call.read()
    assert isinstance(first, pb.WatchStrategyResponse)
    assert first.WhichOneof("kind") == "snapshot" and first.snapshot.strategy_id == sid
    await mesh.start_worker()  # only now does the strategy move

    moves: list[tuple[str, str]] = []
    token = ""
    async with asyncio.timeout(SEEN_WITHIN):
        while len(moves) < 2:
            r = await call.read()
            assert isinstance(r, pb.WatchStrategyResponse) and r.WhichOneof("kind") == "transition"
            moves.append((state_name(r.transition.from_state), state_name(r.transition.to_state)))
            token = r.resume_token
    call.cancel()
    assert moves == [("ANALYZING", "PREPARING"), ("PREPARING", "EXECUTING")]

    await mesh.reaches(sid, "COMPLETED")
    resumed = mesh.stub.WatchStrategy(pb.WatchStrategyRequest(strategy_id=sid, resume_token=token))
    rest: list[tuple[str, str]] = []
    async with asyncio.timeout(SEEN_WITHIN):
        async for r in resumed:
            assert isinstance(r, pb.WatchStrategyResponse)
            if r.WhichOneof("kind") == "snapshot":
                assert state_name(r.snapshot.state) == "COMPLETED"
                continue
            rest.append((state_name(r.transition.from_state), state_name(r.transition.to_state)))
            if rest[-1][1] == "COMPLETED":
                break
    resumed.cancel()
    assert rest == [("EXECUTING", "MONITORING"), ("MONITORING", "COMPLETED")]


async def test_a_bad_deploy_names_every_field_and_leaves_nothing(mesh: Mesh) -> None:
    body = {
        "strategyName": "momentum",
        "exchange": "mtgox",
        "symbol": "BTC/USD",
        "riskLimits": {"maxLoss": 5},
    }
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await mesh.stub.DeployStrategy(deploy(body, request_id="bad-1"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(caught.value)) == {"exchange", "risk_limits.max_position_size"}
    listed = await mesh.stub.ListStrategies(pb.ListStrategiesRequest())
    assert list(listed.strategies) == [] and await all_jobs(mesh) == 0
    # the failed request id was not spent: the corrected request under it deploys
    good = await mesh.stub.DeployStrategy(deploy(MOMENTUM, request_id="bad-1"))
    assert good.strategy.strategy_name == "momentum"


async def test_a_repeated_deploy_request_makes_one_strategy_and_one_set_of_jobs(mesh: Mesh) -> None:
    a = await mesh.stub.DeployStrategy(deploy(MOMENTUM, request_id="r-1"))
    b = await mesh.stub.DeployStrategy(deploy(MOMENTUM, request_id="r-1"))
    assert a.strategy.strategy_id == b.strategy.strategy_id
    listed = await mesh.stub.ListStrategies(pb.ListStrategiesRequest())
    assert [s.strategy_id for s in listed.strategies] == [a.strategy.strategy_id]
    assert await all_jobs(mesh) == 1  # its one risk analysis


async def test_stopping_cancels_what_has_not_started_and_completes(mesh: Mesh) -> None:
    sid = (await mesh.stub.DeployStrategy(deploy(MOMENTUM))).strategy.strategy_id  # no worker: it waits
    got = await mesh.stub.GetStrategy(pb.GetStrategyRequest(strategy_id=sid))
    assert list(got.queue_status.related_queues) == ["risk-analysis"]
    assert got.queue_status.total_related_jobs == 1
    queue, _, job_id = (await mesh.runner.get(sid)).awaiting[0].partition("/")
    options = (await mesh.runner.manager.get_job(queue, job_id)).job.options
    # one job of the strategy at a time per queue, and a newer one replaces a waiting one
    assert options.group_key == sid and options.supersede_waiting
    stopped = await mesh.stub.StopStrategy(pb.StopStrategyRequest(strategy_id=sid, reason="enough"))
    assert state_name(stopped.strategy.state) == "COMPLETED"
    assert await mesh.path(sid) == ["IDLE", "ANALYZING", "STOPPING", "COMPLETED"]
    assert await all_jobs(mesh) == 0  # the analysis was cancelled before any worker took it
    history = await mesh.stub.GetStrategyHistory(pb.GetStrategyHistoryRequest(strategy_id=sid))
    assert history.transitions[1].reason == "enough"
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await mesh.stub.StopStrategy(pb.StopStrategyRequest(strategy_id=sid))
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await mesh.stub.StopStrategy(pb.StopStrategyRequest(strategy_id="strategy_1_nope"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_emergency_stop_stops_every_strategy_at_work_once(mesh: Mesh) -> None:
    ids = [(await mesh.stub.DeployStrategy(deploy(MOMENTUM))).strategy.strategy_id for _ in range(3)]
    with pytest.raises(grpc.aio.AioRpcError) as no_reason:
        await mesh.stub.EmergencyStopAll(pb.EmergencyStopAllRequest())
    assert violations(no_reason.value) == {"reason": "required"}
    first = await mesh.stub.EmergencyStopAll(
        pb.EmergencyStopAllRequest(reason="exchange halt", request_id="e1")
    )
    assert sorted(first.stopped_strategy_ids) == sorted(ids)
    again = await mesh.stub.EmergencyStopAll(
        pb.EmergencyStopAllRequest(reason="exchange halt", request_id="e1")
    )
    assert again == first
    for sid in ids:
        assert await mesh.state(sid) == "COMPLETED"
    later = await mesh.stub.EmergencyStopAll(pb.EmergencyStopAllRequest(reason="again", request_id="e2"))
    assert list(later.stopped_strategy_ids) == []


async def test_list_filters_and_pages(mesh: Mesh) -> None:
    kraken_eth = [(await mesh.stub.DeployStrategy(deploy(MOMENTUM))).strategy.strategy_id for _ in range(3)]
    other = {**MOMENTUM, "exchange": "binance", "symbol": "BTC/USD"}
    binance_btc = (await mesh.stub.DeployStrategy(deploy(other))).strategy.strategy_id
    await mesh.stub.StopStrategy(pb.StopStrategyRequest(strategy_id=kraken_eth[0]))

    async def listed(**kw: Any) -> list[str]:
        out, token = [], ""
        while True:
            page = await mesh.stub.ListStrategies(
                pb.ListStrategiesRequest(page_size=2, page_token=token, **kw)
            )
            assert len(page.strategies) <= 2
            out += [s.strategy_id for s in page.strategies]
            if not (token := page.next_page_token):
                return out

    assert sorted(await listed()) == sorted([*kraken_eth, binance_btc])
    assert sorted(await listed(exchange="kraken")) == sorted(kraken_eth)
    assert await listed(symbol="BTC/USD") == [binance_btc]
    assert await listed(states=[spb.STRATEGY_STATE_COMPLETED]) == [kraken_eth[0]]
    assert sorted(await listed(states=[spb.STRATEGY_STATE_ANALYZING], exchange="kraken")) == sorted(
        kraken_eth[1:]
    )
    assert await listed(strategy_name="arbitrage") == []
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await mesh.stub.ListStrategies(pb.ListStrategiesRequest(states=[spb.STRATEGY_STATE_UNSPECIFIED]))
    assert set(violations(bad.value)) == {"states[0]"}


async def test_a_job_removed_under_a_strategy_is_added_again(mesh: Mesh) -> None:
    sid = (await mesh.stub.DeployStrategy(deploy(MOMENTUM))).strategy.strategy_id
    stored = await mesh.runner.get(sid)
    queue, _, job_id = stored.awaiting[0].partition("/")
    # the analysis is cancelled under the strategy (an operator's RemoveJob): what it awaits is gone
    await mesh.runner.manager.cancel_job(queue, job_id)
    assert await mesh.reaches(sid, "ANALYZING") == "ANALYZING"
    await mesh.start_worker()  # the sweep finds the job missing and adds it again: the strategy goes on
    assert await mesh.reaches(sid, "COMPLETED", "IDLE") in ("COMPLETED", "IDLE")
    info = await mesh.runner.manager.get_job(queue, job_id)
    assert info.state == env.JOB_STATE_COMPLETED


async def test_system_status_counts_strategies_by_state(mesh: Mesh) -> None:
    for _ in range(2):
        await mesh.stub.DeployStrategy(deploy(MOMENTUM))
    status = await mesh.stub.GetSystemStatus(pb.GetSystemStatusRequest())
    counts = {state_name(c.state): c.count for c in status.strategies if c.count}
    assert counts == {"ANALYZING": 2}
    assert status.redis_connected and [q.queue for q in status.queues] == list(TRADING_QUEUES)
