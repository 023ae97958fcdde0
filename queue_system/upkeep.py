"""The timers a worker runs beside its reads: leases, takeovers, due delayed jobs, housekeeping.

- every renew period it renews the lease of every job it holds (and its own
  heartbeat), and stops any job another worker took over;
- every reclaim check it takes over jobs of dead workers (reclaim.lua),
  whether or not new jobs arrive;
- it moves due delayed jobs to their lanes (promote.lua), at most ~50 ms late;
- now and then it trims lanes and forgets silent consumers (janitor.lua).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AbstractAsyncContextManager
from typing import Final, Protocol

from redis.exceptions import RedisError

from queue_system.outages import TRANSIENT, Outage
from queue_system.queue import Delivery, RedisQueue
from queue_system.settings import QueueTuning

log = logging.getLogger(__name__)

PROMOTE_IDLE_S: Final = 0.05  # delayed jobs start at most ~50 ms late
PROMOTE_BATCH: Final = 1000


class Crew(Protocol):
    """What the timers need of the worker they serve."""

    held: dict[bytes, Delivery]
    stopping: asyncio.Event  # set when the worker stops reading
    closed: asyncio.Event  # set when it has stopped for good (leases end then)

    def free_slots(self) -> int: ...

    def is_idle(self) -> bool: ...

    def dispatch(self, d: Delivery) -> None: ...

    def lost(self, entry_id: bytes) -> None: ...

    def claiming(self) -> AbstractAsyncContextManager[None]: ...


async def nap(seconds: float, until: asyncio.Event) -> None:
    """Sleep, but wake at once when `until` is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await until.wait()


class Upkeep:
    """The timer loops of one worker on one queue."""

    def __init__(self, queue: RedisQueue, tuning: QueueTuning, crew: Crew) -> None:
        self.queue = queue
        self.tuning = tuning
        self.crew = crew
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop, name = asyncio.get_running_loop(), self.queue.name
        self.tasks = [
            loop.create_task(self._renew_loop(), name=f"renew:{name}"),
            loop.create_task(self._reclaim_loop(), name=f"reclaim:{name}"),
            loop.create_task(self._promote_loop(), name=f"promote:{name}"),
            loop.create_task(self._janitor_loop(), name=f"janitor:{name}"),
        ]

    @property
    def until_stopping(self) -> list[asyncio.Task[None]]:
        """The loops that end when the worker stops reading (leases go on until it is closed)."""
        return [t for t in self.tasks if not t.get_name().startswith("renew:")]

    async def _renew_loop(self) -> None:
        """Renew leases (and this worker's heartbeat, at once on start) every renew period."""
        period = self.tuning.renew_ms / 1000
        while not self.crew.closed.is_set():
            held = [(d.lane, d.entry_id) for d in self.crew.held.values()]
            try:
                lost = await self.queue.renew(held)
            except RedisError as exc:
                log.warning("%s renew: %s", self.queue.name, exc)
                lost = set()
            for entry_id in lost:
                self.crew.lost(entry_id)
            await nap(period, self.crew.closed)

    async def _reclaim_loop(self) -> None:
        period = self.tuning.reclaim_check_ms / 1000
        outage = Outage(f"{self.queue.name} reclaim", log, self.crew.stopping)
        while not self.crew.stopping.is_set():
            await nap(period, self.crew.stopping)
            free = self.crew.free_slots()
            if free <= 0 or self.crew.stopping.is_set():
                continue
            try:
                async with self.crew.claiming():  # the reader's fetches and these never overlap
                    free = self.crew.free_slots()
                    taken = (
                        await self.queue.reclaim(
                            self.tuning.reclaim_ms, free, self.tuning.max_deliveries, idle=self.crew.is_idle()
                        )
                        if free > 0 and not self.crew.stopping.is_set()
                        else []
                    )
                    for d in taken:
                        if d.entry_id not in self.crew.held:  # a job this process already runs stays as it is
                            log.info(
                                "%s: took over job %s (delivery %d)", self.queue.name, d.job_id, d.deliveries
                            )
                            self.crew.dispatch(d)
            except TRANSIENT as exc:
                await outage.wait(exc)
                continue
            outage.over()

    async def _promote_loop(self) -> None:
        outage = Outage(f"{self.queue.name} promote", log, self.crew.stopping)
        while not self.crew.stopping.is_set():
            try:
                moved, wait_ms = await self.queue.promote(PROMOTE_BATCH)
            except TRANSIENT as exc:
                await outage.wait(exc)
                continue
            outage.over()
            if moved >= PROMOTE_BATCH:
                continue
            await nap(
                PROMOTE_IDLE_S if wait_ms < 0 else min(PROMOTE_IDLE_S, wait_ms / 1000), self.crew.stopping
            )

    async def _janitor_loop(self) -> None:
        silent_ms = max(60_000, 10 * self.tuning.reclaim_ms)
        while not self.crew.stopping.is_set():
            await nap(silent_ms / 2000, self.crew.stopping)
            with contextlib.suppress(RedisError):
                await self.queue.janitor(silent_ms)
