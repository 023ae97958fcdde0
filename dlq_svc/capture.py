"""Capture: every record of every queue's dead-letter stream becomes a stored, classified dead letter.

The loop reads with `DeadLetterReader` (one consumer group for every dlq-svc
process: each record reaches one of them and stays pending until it is
acknowledged), decides what the dead letter is (category, risk, recovery),
stores it, and only then acknowledges. A dlq-svc killed between the two
leaves the record pending; whoever reads it next (this process restarted, or
another after `reclaim_ms`) stores it again, which changes nothing: the dead
letter's id is the record's entry id. While dlq-svc is down, records simply
wait in the streams, which are never trimmed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

from redis.exceptions import RedisError

from dlq_svc import classification, recovery, risk
from dlq_svc.settings import DlqSettings
from dlq_svc.store import DeadLetterStore, dead_letter_id, now_ms
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.dlq.v1 import dead_letter_pb2 as dpb
from jobmesh.jobs.v1 import failure_pb2
from queue_system.dead_letters import DeadLetterReader, DeadLetterRecord
from queue_system.failure import timestamp_ms
from queue_system.outages import TRANSIENT, Outage, stop_if_cancelled

log = logging.getLogger(__name__)

READ_COUNT: Final = 200
STATUS_OF: Final[dict[int, int]] = {
    cpb.RECOVERY_STRATEGY_RETRY_DELAYED: dpb.DEAD_LETTER_STATUS_RETRY_SCHEDULED,
    cpb.RECOVERY_STRATEGY_MANUAL_REVIEW: dpb.DEAD_LETTER_STATUS_PENDING,
    cpb.RECOVERY_STRATEGY_DISCARD: dpb.DEAD_LETTER_STATUS_DISCARDED,
}


def strategy_of(failed: failure_pb2.FailedJob) -> str:
    """The strategy a job worked for: its payload's strategy id, else a strategy's group key."""
    job = failed.job
    if job.payload.HasField("strategy_execution") and job.payload.strategy_execution.strategy_id:
        return job.payload.strategy_execution.strategy_id
    group = job.options.group_key
    return group if group.startswith("strategy_") else ""


def undecodable(record: DeadLetterRecord) -> failure_pb2.FailedJob:
    """A stand-in FailedJob for a record that does not decode: kept, for a person to look at."""
    return failure_pb2.FailedJob(
        queue=record.queue,
        job_id=record.job_id,
        reason=failure_pb2.DEAD_LETTER_REASON_UNDECODABLE,
        detail=record.problem,
        dead_lettered_at=timestamp_ms(now_ms()),
    )


def dead_letter(
    record: DeadLetterRecord, *, retries: int, settings: DlqSettings, received_ms: int
) -> dpb.DeadLetter:
    """The dead letter a record becomes: classified, its risk assessed, its recovery decided."""
    failed = record.failed if record.failed is not None else undecodable(record)
    category = classification.classify(failed)
    level = risk.assess(failed, category)
    plan = recovery.plan(
        category,
        level,
        retries=retries,
        max_retries=settings.max_auto_retries,
        base_delay_ms=settings.retry_base_ms,
        can_run=failed.HasField("job"),
    )
    out = dpb.DeadLetter(
        dead_letter_id=dead_letter_id(record.queue, record.entry_id),
        failed_job=failed,
        category=category,  # type: ignore[arg-type]
        risk=level,  # type: ignore[arg-type]
        recovery=plan.strategy,  # type: ignore[arg-type]
        status=STATUS_OF[plan.strategy],  # type: ignore[arg-type]
        decision_reason=plan.why,
        received_at=timestamp_ms(received_ms),
        updated_at=timestamp_ms(received_ms),
        retries=retries,
        strategy_id=strategy_of(failed),
    )
    if plan.strategy == cpb.RECOVERY_STRATEGY_RETRY_DELAYED:
        out.retry_at.CopyFrom(timestamp_ms(received_ms + plan.delay_ms))
    return out


class Capture:
    """Reads the dead-letter streams and stores what it reads, acknowledging only what is stored."""

    def __init__(self, reader: DeadLetterReader, store: DeadLetterStore, settings: DlqSettings) -> None:
        self.reader = reader
        self.store = store
        self.settings = settings

    async def store_records(self, records: Sequence[DeadLetterRecord]) -> int:
        """Store every record (once), then acknowledge them all; how many were new."""
        jobs = [(r.queue, r.failed.job_id if r.failed is not None else r.job_id) for r in records]
        retries = await self.store.retries_of_many(jobs)
        received = now_ms()
        letters = [
            dead_letter(r, retries=n, settings=self.settings, received_ms=received)
            for r, n in zip(records, retries, strict=True)
        ]
        stored = await self.store.capture_many(letters)
        for d, new in zip(letters, stored, strict=True):
            if new:
                log.info(
                    "dead letter %s (job %s): %s, %s, %s", d.dead_letter_id, d.failed_job.job_id,
                    cpb.ErrorCategory.Name(d.category), cpb.RiskLevel.Name(d.risk),
                    cpb.RecoveryStrategy.Name(d.recovery),
                )  # fmt: skip
        await self.reader.ack(records)
        return sum(stored)

    async def step(self, block_ms: int = 1000) -> int:
        """Read one batch (waiting up to `block_ms` for one) and store it; how many were new."""
        records = await self.reader.read(count=READ_COUNT, block_ms=block_ms)
        return await self.store_records(records) if records else 0

    async def run(self) -> None:
        """Capture until cancelled; a Redis outage only pauses it."""
        outage = Outage("dead-letter capture", log)
        ready = False
        while True:
            stop_if_cancelled()
            try:
                if not ready:
                    await self.reader.ensure_group()
                    ready = True
                await self.step()
                outage.over()
            except (*TRANSIENT, RedisError) as exc:
                ready = False  # a Redis that lost its data lost the groups too
                await outage.wait(exc)
