"""worker-trading killed or stalled in the middle of a strategy's order: the order is placed once.

Each fault is aimed with a failpoint (queue_system.failpoints), so the process is
provably at that place when the signal lands:

- SIGKILL right after the order went out, before the job finished: a new worker
  process reclaims the job, finds the order by its client order id and reports it
  instead of ordering again.
- SIGSTOP right before the order (a stalled worker: alive, its lease not renewed):
  a second worker takes the job over and places the order with the next fencing
  token. The stalled one, let go again, places nothing and does not complete the
  job: its lease check finds the job taken and stops the handler, and a handler
  already inside the order call is refused by the venue's fence (FencedOffError;
  tests/worker_trading/test_paper_exchange.py pins that refusal down).

Either way: one order on the account, the position it bought (not twice that),
and the job completed with that one order in its result.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
import redis.asyncio as aioredis
from google.protobuf import json_format

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from queue_system.catalog import STRATEGY_EXECUTION, TRADING_QUEUES
from queue_system.keys import PaperExchangeKeys, PaperOrderField, PaperPositionField
from queue_system.manager import QueueManager
from queue_system.settings import Settings, queue_env_stem
from tests.queue_system.conftest import wait_until
from tests.service_processes import SPECS, ServiceProcess, wait_for
from tests.worker_trading.processors.test_momentum import BUY_CLOSES

pytestmark = pytest.mark.slow

WITHIN = 60.0
ACCOUNT = "strategy_fault"
VENUE, PAIR = "binance", "BTC/USD"
RECLAIM_MS = 1500


class Workers:
    """worker-trading processes on one private prefix, and the job queue they serve."""

    def __init__(self, redis_url: str, prefix: str) -> None:
        self.redis_url = redis_url
        self.env = {
            "QUEUE_PREFIX": prefix,
            "JOBMESH_RECLAIM_MS": str(RECLAIM_MS),
            "QUEUE_DEFAULT_REMOVE_ON_COMPLETE": "false",  # the test reads the result back
            **{f"{queue_env_stem(q)}_RATE_LIMIT": "none" for q in TRADING_QUEUES},
        }
        self.running: list[ServiceProcess] = []

    def start(self, **failpoints: float) -> ServiceProcess:
        extra = dict(self.env)
        if failpoints:
            extra["JOBMESH_FAILPOINTS"] = ",".join(f"{n}={s}" for n, s in failpoints.items())
        svc = ServiceProcess(SPECS["worker_trading"], self.redis_url, extra).start()
        self.running.append(svc)
        wait_for([svc], "SERVING", timeout=60)
        return svc

    def close(self) -> None:
        for svc in self.running:
            if svc.proc is not None and svc.proc.poll() is None:
                svc.proc.send_signal(signal.SIGCONT)  # a stopped process cannot die of SIGKILL's wait
            svc.close()


@pytest.fixture
async def setup(
    redis_url: str, make_settings: Callable[..., Settings], queue_prefix: str
) -> AsyncIterator[tuple[Workers, QueueManager]]:
    workers = Workers(redis_url, queue_prefix)
    manager = QueueManager(make_settings(), service="test")
    try:
        yield workers, manager
    finally:
        workers.close()
        await manager.close()


async def at_failpoint(svc: ServiceProcess, name: str) -> None:
    async def there() -> bool:
        return f"failpoint {name}: waiting" in svc.log()

    await wait_until(there, within=WITHIN)


async def enqueue(manager: QueueManager, job_id: str) -> None:
    body = {
        "strategyExecution": {
            "strategyName": "momentum",
            "exchange": VENUE,
            "symbol": PAIR,
            "strategyId": ACCOUNT,
            "parameters": {"closes": BUY_CLOSES},
            "riskLimits": {"maxPositionSize": 1000, "maxLoss": 100},
        }
    }
    payload = json_format.ParseDict(body, env.JobPayload())
    await manager.add_job(STRATEGY_EXECUTION, payload, env.JobOptions(job_id=job_id))


async def completed(manager: QueueManager, job_id: str) -> tr.StrategyExecutionResult:
    async def done() -> bool:
        info = await manager.get_job(STRATEGY_EXECUTION, job_id)
        assert info.state != env.JOB_STATE_FAILED, info.failed_reason
        return info.state == env.JOB_STATE_COMPLETED

    await wait_until(done, within=WITHIN)
    result = tr.StrategyExecutionResult()
    assert (await manager.get_job(STRATEGY_EXECUTION, job_id)).result.Unpack(result)
    return result


async def orders_of(client: aioredis.Redis, prefix: str) -> list[dict[str, str]]:
    """Every order the paper venue holds for the account, as stored."""
    pattern = PaperExchangeKeys(prefix, ACCOUNT).order(VENUE, "*")
    keys = [k async for k in client.scan_iter(match=pattern, count=1000)]
    return [{k.decode(): v.decode() for k, v in (await client.hgetall(key)).items()} for key in keys]


async def held(client: aioredis.Redis, prefix: str) -> Decimal:
    position = PaperExchangeKeys(prefix, ACCOUNT).position(VENUE, PAIR)
    raw = await client.hget(position, PaperPositionField.CONTRACTS)
    return Decimal(raw.decode()) if raw else Decimal(0)


async def test_a_worker_killed_after_its_order_leaves_one_order(
    setup: tuple[Workers, QueueManager], queue_prefix: str
) -> None:
    workers, manager = setup
    first = workers.start(**{"strategy-execution.after-order": 120})
    await enqueue(manager, "exec-kill")
    await at_failpoint(first, "strategy-execution.after-order")
    placed = await orders_of(manager.client, queue_prefix)
    assert len(placed) == 1  # the order went out before the kill

    assert first.proc is not None
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    workers.start()  # no failpoint: it reclaims the job once the lease runs out

    result = await completed(manager, "exec-kill")
    assert (result.signal, result.orders_placed) == ("buy", 1)
    assert result.orders[0].client_order_id == "exec-kill-buy"
    assert "placed by an earlier delivery" in json_format.MessageToDict(result.figures)["resumed"]
    orders = await orders_of(manager.client, queue_prefix)
    assert orders == placed  # the same one order, nothing more
    assert await held(manager.client, queue_prefix) == Decimal(orders[0][PaperOrderField.FILLED]) > 0


async def test_a_stalled_worker_is_fenced_off_from_ordering(
    setup: tuple[Workers, QueueManager], queue_prefix: str
) -> None:
    workers, manager = setup
    stalled = workers.start(**{"strategy-execution.before-order": 3})
    await enqueue(manager, "exec-stall")
    await at_failpoint(stalled, "strategy-execution.before-order")
    assert stalled.proc is not None
    stalled.proc.send_signal(signal.SIGSTOP)  # alive, silent: its lease runs out
    workers.start()

    result = await completed(manager, "exec-stall")
    assert (result.signal, result.orders_placed) == ("buy", 1)
    orders = await orders_of(manager.client, queue_prefix)
    assert len(orders) == 1 and orders[0][PaperOrderField.FENCE] == "exec-stall|2"

    stalled.proc.send_signal(signal.SIGCONT)  # back from its stall, mid-job, with token 1

    async def gave_up() -> bool:  # its lease check or, mid-call, the venue's fence stops it
        return any(sign in stalled.log() for sign in ("lost job exec-stall to another worker", "fenced off"))

    try:
        await wait_until(gave_up, within=WITHIN)
    except AssertionError:
        raise AssertionError(f"the stalled worker never gave up:\n{stalled.log()}") from None
    await asyncio.sleep(1.0)  # what it might still try after giving up, it has tried
    assert await orders_of(manager.client, queue_prefix) == orders
    assert await held(manager.client, queue_prefix) == Decimal(orders[0][PaperOrderField.FILLED])
    info = await manager.get_job(STRATEGY_EXECUTION, "exec-stall")
    assert info.state == env.JOB_STATE_COMPLETED
    assert stalled.alive()  # fenced off is a refusal, not a crash
