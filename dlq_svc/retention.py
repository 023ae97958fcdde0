"""Retention: dead letters are kept DLQ_RETENTION (30 days) and at most DLQ_RETENTION_MAX, no longer.

Never silent: every trim is announced on `system:events` as
`dead_letters_trimmed` (how many, why, the cutoff), so an operator sees what
retention removed. Several dlq-svc processes may trim at once: the script
removes each dead letter once, and each announces what it removed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from redis.exceptions import RedisError

from dlq_svc.settings import DlqSettings
from dlq_svc.store import DeadLetterStore, now_ms
from jobmesh.dlq.v1 import dead_letter_pb2 as dpb
from queue_system import events
from queue_system.catalog import SYSTEM_EVENTS_CHANNEL
from queue_system.failure import timestamp_ms
from queue_system.outages import TRANSIENT, stop_if_cancelled

log = logging.getLogger(__name__)

SERVICE: Final = "dlq-svc"
TRIM_BATCH: Final = 500


async def trim(store: DeadLetterStore, settings: DlqSettings) -> list[dpb.DeadLettersTrimmed]:
    """Remove what retention no longer keeps, a batch at a time; one event per cause that removed any."""
    cutoff = now_ms() - settings.retention_ms
    removed = {"age": 0, "cap": 0}
    while True:
        old, capped = await store.trim(cutoff, settings.retention_max, TRIM_BATCH)
        removed["age"] += old
        removed["cap"] += capped
        if old < TRIM_BATCH and capped < TRIM_BATCH:
            break
    out = []
    kept = await store.count()
    for cause, n in removed.items():
        if n:
            event = dpb.DeadLettersTrimmed(removed=n, cause=cause, older_than=timestamp_ms(cutoff), kept=kept)
            await store.client.publish(
                SYSTEM_EVENTS_CHANNEL, events.event_json(SERVICE, "dead_letters_trimmed", event)
            )
            log.info("retention removed %d dead letter(s) (%s); %d kept", n, cause, kept)
            out.append(event)
    return out


async def run(store: DeadLetterStore, settings: DlqSettings, every_s: float = 60.0) -> None:
    """Trim every `every_s` until cancelled; a Redis outage only skips a turn."""
    while True:
        stop_if_cancelled()
        try:
            await trim(store, settings)
        except (*TRANSIENT, RedisError) as exc:
            log.warning("retention skipped a turn: %s", exc)
        await asyncio.sleep(every_s)
