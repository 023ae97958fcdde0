"""Decisions on dead letters: retry (now or later), discard, redrive in bulk, and the retry scheduler.

Every decision is the same three steps: read the dead letter, make the new
record, write it only if its status is still the one read (store.decide); a
lost race reads again. Putting a job back uses the queue runtime's
`redrive_dead_letter` (the job keeps its id and history, as a new series of
attempts). That comes *before* the record says RETRIED: a dlq-svc killed in
between puts the job back again on the next look, which the runtime refuses
as a no-op while the job is still on its queue, so a retry is never lost and
never doubled. Bulk redrive schedules each dead letter at its turn (the
configured rate), so the scheduler, not the RPC, moves them: it survives a
restart and never floods a queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from redis.exceptions import RedisError

from dlq_svc.settings import DlqSettings
from dlq_svc.store import DeadLetterStore, Filters, now_ms
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.dlq.v1 import dead_letter_pb2 as dpb
from queue_system.errors import FailedPreconditionError, NotFoundError, UnavailableError
from queue_system.failure import timestamp_ms
from queue_system.manager import QueueManager
from queue_system.outages import TRANSIENT, Outage, stop_if_cancelled

log = logging.getLogger(__name__)

S = dpb  # DeadLetterStatus values
# A decision that keeps losing races for one dead letter gives up (UNAVAILABLE) after this many reads.
DECIDE_TRIES: Final = 20
# Due retries one scheduler pass moves.
DUE_BATCH: Final = 200
REDRIVE_MAX: Final = 10_000
REDRIVE_DEFAULT: Final = 1000
Change = Callable[[dpb.DeadLetter], dpb.DeadLetter | None]


@dataclass(frozen=True, slots=True)
class Redriven:
    """What a bulk redrive scheduled: the dead letters, in the order they leave."""

    dead_letter_ids: list[str]


class Decisions:
    """Retry, discard and redrive dead letters of one store, onto the queues of one manager."""

    def __init__(self, store: DeadLetterStore, manager: QueueManager, settings: DlqSettings) -> None:
        self.store = store
        self.manager = manager
        self.settings = settings

    async def get(self, dead_letter_id: str) -> dpb.DeadLetter:
        found = await self.store.get(dead_letter_id)
        if found is None:
            raise NotFoundError("dead letter", dead_letter_id)
        return found

    async def _decide(self, dead_letter_id: str, change: Change, *, put_back: bool = False) -> dpb.DeadLetter:
        """Apply `change` (None: nothing to do, the dead letter as it is) against concurrent deciders."""
        for _ in range(DECIDE_TRIES):
            before = await self.get(dead_letter_id)
            after = change(before)
            if after is None:
                return before
            after.updated_at.CopyFrom(timestamp_ms(now_ms()))
            done = await self.store.decide(before, after, put_back=put_back)
            if done == 1:
                return after
            if done == -1:
                raise NotFoundError("dead letter", dead_letter_id)
        raise UnavailableError(f"dead letter {dead_letter_id} kept changing; try again")

    # -- operators ------------------------------------------------------------
    async def retry(self, dead_letter_id: str, delay_ms: int = 0, who: str = "operator") -> dpb.DeadLetter:
        """Back to its source queue now, or scheduled `delay_ms` from now."""
        current = await self.get(dead_letter_id)
        _refuse_if_retried(current, "retried")
        if delay_ms > 0:
            return await self.schedule(dead_letter_id, now_ms() + delay_ms, f"{who}: retry in {delay_ms} ms")
        return await self.put_back(dead_letter_id, f"{who}: retry now")

    async def schedule(self, dead_letter_id: str, at_ms: int, why: str) -> dpb.DeadLetter:
        """RETRY_SCHEDULED at `at_ms` (the scheduler puts it back then)."""

        def change(d: dpb.DeadLetter) -> dpb.DeadLetter:
            _refuse_if_retried(d, "retried")
            after = _copy(d, S.DEAD_LETTER_STATUS_RETRY_SCHEDULED, why)
            after.recovery = cpb.RECOVERY_STRATEGY_RETRY_DELAYED
            after.retry_at.CopyFrom(timestamp_ms(at_ms))
            return after

        return await self._decide(dead_letter_id, change)

    async def discard(self, dead_letter_id: str, reason: str) -> dpb.DeadLetter:
        """DISCARDED, with the reason; the record stays. Discarding a discarded one changes nothing."""

        def change(d: dpb.DeadLetter) -> dpb.DeadLetter | None:
            if d.status == S.DEAD_LETTER_STATUS_DISCARDED:
                return None
            _refuse_if_retried(d, "discarded")
            after = _copy(d, S.DEAD_LETTER_STATUS_DISCARDED, reason)
            after.recovery = cpb.RECOVERY_STRATEGY_DISCARD
            after.ClearField("retry_at")
            return after

        return await self._decide(dead_letter_id, change)

    async def redrive(self, filters: Filters, limit: int, per_second: int) -> Redriven:
        """Schedule up to `limit` PENDING dead letters passing `filters` back to their queues, newest
        first, one every 1/`per_second` s after those of earlier redrives."""
        wanted = Filters(filters.queue, filters.category, (), S.DEAD_LETTER_STATUS_PENDING)
        ids: list[str] = []
        token = ""
        while len(ids) < limit:
            page, token = await self.store.page(wanted, min(1000, limit - len(ids)), token)
            ids += page
            if not token:
                break
        interval = max(1, 1000 // max(1, per_second))
        start = await self.store.reserve_redrive(len(ids), interval)
        scheduled = []
        for n, dead_letter_id in enumerate(ids):
            try:
                await self.schedule(
                    dead_letter_id, start + n * interval, f"redrive: turn {n + 1} of {len(ids)}"
                )
            except (NotFoundError, FailedPreconditionError):
                continue  # trimmed, or decided by someone else meanwhile
            scheduled.append(dead_letter_id)
        return Redriven(scheduled)

    # -- the scheduler ----------------------------------------------------------
    async def put_back(self, dead_letter_id: str, why: str) -> dpb.DeadLetter:
        """Re-enqueue its job on its source queue and mark it RETRIED."""
        current = await self.get(dead_letter_id)
        _refuse_if_retried(current, "retried")
        await self.manager.redrive_dead_letter(current.failed_job)  # False: it is back there already

        def change(d: dpb.DeadLetter) -> dpb.DeadLetter | None:
            if d.status == S.DEAD_LETTER_STATUS_RETRIED:
                return None
            after = _copy(d, S.DEAD_LETTER_STATUS_RETRIED, why)
            after.retried_job_id = d.failed_job.job_id
            after.retries = d.retries + 1
            after.ClearField("retry_at")
            return after

        return await self._decide(dead_letter_id, change, put_back=True)

    async def run_due(self) -> int:
        """Put back every scheduled retry that is due; how many went."""
        moved = 0
        for dead_letter_id in await self.store.due(now_ms(), DUE_BATCH):
            try:
                await self.put_back(dead_letter_id, "scheduled retry")
                moved += 1
            except NotFoundError:
                await self.store.forget_due(dead_letter_id)  # trimmed meanwhile
            except FailedPreconditionError as exc:  # retried already, or it cannot run at all
                log.warning("scheduled retry of %s not made: %s", dead_letter_id, exc)
                await self.hold(dead_letter_id, f"scheduled retry not made: {exc}")
        return moved

    async def hold(self, dead_letter_id: str, why: str) -> dpb.DeadLetter:
        """Back to PENDING (manual review), unless it was retried already."""

        def change(d: dpb.DeadLetter) -> dpb.DeadLetter | None:
            if d.status in (S.DEAD_LETTER_STATUS_RETRIED, S.DEAD_LETTER_STATUS_PENDING):
                return None
            after = _copy(d, S.DEAD_LETTER_STATUS_PENDING, why)
            after.recovery = cpb.RECOVERY_STRATEGY_MANUAL_REVIEW
            after.ClearField("retry_at")
            return after

        done = await self._decide(dead_letter_id, change)
        await self.store.forget_due(dead_letter_id)
        return done

    async def run(self) -> None:
        """The scheduler, until cancelled: due retries every DLQ_SWEEP_INTERVAL."""
        outage = Outage("dead-letter scheduler", log)
        while True:
            stop_if_cancelled()
            try:
                while await self.run_due() >= DUE_BATCH:
                    pass
                outage.over()
            except (*TRANSIENT, RedisError) as exc:
                await outage.wait(exc)
                continue
            await asyncio.sleep(self.settings.sweep_ms / 1000)


def _copy(d: dpb.DeadLetter, status: int, why: str) -> dpb.DeadLetter:
    after = dpb.DeadLetter()
    after.CopyFrom(d)
    after.status = status  # type: ignore[assignment]
    after.decision_reason = why
    return after


def _refuse_if_retried(d: dpb.DeadLetter, verb: str) -> None:
    if d.status == S.DEAD_LETTER_STATUS_RETRIED:
        raise FailedPreconditionError(
            f"dead letter {d.dead_letter_id} was retried already (job {d.retried_job_id}); "
            f"it cannot be {verb}",
            "STATE",
            d.dead_letter_id,
        )
