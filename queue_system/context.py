"""What a handler knows about the job it runs, and what it may do with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from jobmesh.jobs.v1 import envelope_pb2


class JobContext:
    """Handed to a handler that asks for it (a parameter annotated `JobContext`).

    `idempotency_key` is stable across re-deliveries and retries of the same
    job: a handler whose side effect must not repeat (placing an order) passes
    it to the system it calls, so a re-delivered job never acts twice.
    """

    __slots__ = ("_progress", "consumer", "deliveries", "job")

    def __init__(
        self,
        job: envelope_pb2.Job,
        deliveries: int,
        consumer: str,
        progress: Callable[[float], Awaitable[bool]],
    ) -> None:
        self.job = job
        self.deliveries = deliveries
        self.consumer = consumer
        self._progress = progress

    @property
    def job_id(self) -> str:
        return self.job.id

    @property
    def queue(self) -> str:
        return self.job.queue

    @property
    def attempt(self) -> int:
        """1 on the first attempt."""
        return self.job.attempt

    @property
    def idempotency_key(self) -> str:
        return f"{self.job.queue}/{self.job.id}"

    @property
    def fencing_token(self) -> int:
        """This delivery's fencing token: the job's deliveries over its whole life (`deliveries`).

        It grows with every hand-over, including one to another worker that took the
        job over from a stalled holder, so a system that keeps the highest token it
        has seen for the job (the paper exchange does) can refuse the stalled worker
        once it wakes up: its token is lower than its successor's.
        """
        return self.deliveries

    async def progress(self, percent: float) -> bool:
        """Report progress (0..100); False when this worker no longer holds the job."""
        return await self._progress(max(0.0, min(100.0, percent)))
