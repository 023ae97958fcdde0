"""Moves strategies on as their jobs finish: follows the trading queues' events, and sweeps.

The events make it quick (a job completes -> its strategy advances at once);
the sweep makes it sure: every strategy at work is looked at every few
seconds, so one whose job finished while trading-svc was down, or whose
event was missed, still moves on. Both only call `StrategyRunner.advance`,
which is safe to call again and, across replicas, settled by the store's
version check.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from jobmesh.events.v1 import job_events_pb2
from queue_system import streams
from queue_system.catalog import TRADING_QUEUES
from queue_system.errors import JobmeshError
from queue_system.events import queue_events
from queue_system.outages import TRANSIENT, Outage, end_tasks
from queue_system.upkeep import nap
from trading_svc import fsm
from trading_svc.runner import StrategyRunner

log = logging.getLogger(__name__)

SWEEP_EVERY_S: Final = 2.0
# How long a stop waits for the loops: past the longest blocking read (streams.BLOCK_MS).
STOP_PATIENCE_S: Final = 10.0
# The events that can end what a strategy awaits.
ENDINGS: Final = frozenset({"job_completed", "job_failed", "job_superseded"})
# The states a strategy leaves by itself; ERROR and PREPARING only pass by, unless a crash held them.
AT_WORK: Final = (fsm.ANALYZING, fsm.PREPARING, fsm.EXECUTING, fsm.MONITORING, fsm.STOPPING, fsm.ERROR)


def strategy_of(job_id: str) -> str | None:
    """The strategy a job belongs to (its id is <strategy id>-v<version>-<kind>), if any."""
    sid, sep, _ = job_id.partition("-v")
    return sid if sep and sid.startswith("strategy_") else None


class StrategyDriver:
    """Runs for trading-svc's life (ServiceContext.run_in_background)."""

    def __init__(self, runner: StrategyRunner, sweep_every_s: float = SWEEP_EVERY_S) -> None:
        self.runner = runner
        self.sweep_every_s = sweep_every_s
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        """Follow and sweep until cancelled. The loops also stop on a flag: redis-py can lose a
        cancellation (queue_system.outages.stop_if_cancelled), and a stop must not hang."""
        loops = [
            asyncio.create_task(self._follow(), name="strategy events"),
            asyncio.create_task(self._sweep(), name="strategy sweep"),
        ]
        try:
            await asyncio.wait(loops, return_when=asyncio.FIRST_EXCEPTION)
            for loop in loops:
                if loop.done():
                    loop.result()  # a loop that failed: say so
        finally:
            self.stopping.set()
            await end_tasks(loops, STOP_PATIENCE_S, log)

    async def _advance(self, strategy_id: str) -> None:
        try:
            await self.runner.advance(strategy_id)
        except JobmeshError as exc:  # a strategy that cannot move now is looked at again by the sweep
            log.info("strategy %s not advanced: %s", strategy_id, exc)

    async def _follow(self) -> None:
        manager = self.runner.manager
        follow = queue_events([manager.queue(q) for q in TRADING_QUEUES], ENDINGS)
        outage = Outage("strategy events", log, self.stopping)
        while not self.stopping.is_set():
            try:
                positions = await streams.start(manager.client, follow, "")
                async for _, event in streams.entries(manager.client, follow, positions):
                    outage.over()
                    if self.stopping.is_set():
                        return
                    data = job_events_pb2.JobLifecycle()
                    if event.data.Unpack(data) and (sid := strategy_of(data.job_id)):
                        await self._advance(sid)
            except (*TRANSIENT, JobmeshError) as exc:  # Redis away, or fell behind: the sweep covers the gap
                await outage.wait(exc)

    async def _sweep(self) -> None:
        outage = Outage("strategy sweep", log, self.stopping)
        while not self.stopping.is_set():
            try:
                for sid in await self.runner.store.ids_in(AT_WORK):
                    if self.stopping.is_set():
                        return
                    await self._advance(sid)
                outage.over()
            except TRANSIENT as exc:
                await outage.wait(exc)
            await nap(self.sweep_every_s, self.stopping)
