"""Riding out a Redis outage: wait and try again, rather than fail at once or spin.

Every loop of a worker and every add of a producer meets Redis restarts,
failovers and a restarted Redis still loading its data. They all use this one
policy: a transient error waits (50 ms, doubling to 2 s) and tries again; a
worker's loops do so for as long as it takes, an add up to a bound, after
which it fails with UnavailableError. Safe to repeat: adds are de-duplicated
by their receipt and job id, and every finish checks that the caller still
holds the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.exceptions import TryAgainError

from queue_system.errors import UnavailableError

T = TypeVar("T")

# Errors that pass: Redis is away, restarting (BusyLoadingError is a
# ConnectionError), out of free connections for now (MaxConnectionsError, too),
# or asks to try again (a cluster slot moving).
TRANSIENT: Final = (RedisConnectionError, RedisTimeoutError, TryAgainError, OSError)
FIRST_WAIT_S: Final = 0.05
# How often end_tasks cancels a loop again that has not stopped.
RECANCEL_S: Final = 0.1
LONGEST_WAIT_S: Final = 2.0


def stop_if_cancelled() -> None:
    """Raise CancelledError if this task was cancelled and the cancellation was lost on the way.

    redis-py's asyncio client can swallow a cancellation that lands while a command is in
    flight (redis/redis-py#2028; seen here with redis-py 8.1 on CPython 3.11, about once in a
    hundred cancels of a loop around a blocking XREAD): the command returns as if nothing
    happened, or raises its TimeoutError, while Task.cancelling() stays set. A loop that runs
    until cancelled calls this each time round (and where it catches TRANSIENT), so that
    cancelling it stops it.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def end_tasks(
    tasks: Sequence[asyncio.Task[None]], patience_s: float = 5.0, log: logging.Logger | None = None
) -> None:
    """Cancel loop tasks and wait for them, boundedly. A cancellation a library swallowed (see
    stop_if_cancelled) is made again every RECANCEL_S, and a loop also ends on its stop flag:
    a stop never hangs."""
    stuck = set(tasks)
    deadline = time.monotonic() + patience_s
    while stuck and time.monotonic() < deadline:
        for t in stuck:
            t.cancel()
        _, stuck = await asyncio.wait(stuck, timeout=min(RECANCEL_S, max(0.0, deadline - time.monotonic())))
    if stuck:
        for t in stuck:
            (log or logging.getLogger(__name__)).error(
                "task %s did not stop within %.0fs", t.get_name(), patience_s
            )


class Outage:
    """The consecutive failures of one repeated Redis operation, and the wait before the next try.

    `wait` sleeps a little longer each time (and wakes at once when `stopping`
    is set); `over` resets it after a success. Logged at the first failure,
    the tenth and every hundredth, so an outage is visible but not a flood.
    """

    def __init__(self, what: str, log: logging.Logger, stopping: asyncio.Event | None = None) -> None:
        self.what = what
        self.log = log
        self.stopping = stopping
        self.failures = 0

    def next_wait_s(self) -> float:
        return float(min(LONGEST_WAIT_S, FIRST_WAIT_S * 2 ** min(self.failures - 1, 6)))

    async def wait(self, exc: BaseException) -> None:
        self.failures += 1
        wait_s = self.next_wait_s()
        if self.failures in (1, 10) or self.failures % 100 == 0:
            self.log.warning("%s: %s (trying again in %.2fs)", self.what, exc, wait_s)
        if self.stopping is None:
            await asyncio.sleep(wait_s)
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                await self.stopping.wait()

    def over(self) -> None:
        if self.failures >= 10:
            self.log.info("%s: Redis answers again after %d failed tries", self.what, self.failures)
        self.failures = 0


async def ride_out(
    op: Callable[[], Awaitable[T]],
    outage: Outage,
    *,
    bound_s: float | None = None,
) -> T:
    """`op()` until it succeeds; transient errors wait and try again, for at most `bound_s`
    (None: for as long as it takes), then UnavailableError."""
    deadline = None if bound_s is None else time.monotonic() + bound_s
    while True:
        stop_if_cancelled()
        try:
            result = await op()
        except TRANSIENT as exc:
            if deadline is not None and time.monotonic() + outage.next_wait_s() > deadline:
                raise UnavailableError(f"Redis did not answer within {bound_s:g}s: {exc}") from exc
            await outage.wait(exc)
            continue
        outage.over()
        return result
