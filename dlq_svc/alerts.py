"""Pattern alerts: raised once per cooldown, kept in a capped stream, announced on `system:events`.

`AlertLog` turns a `patterns.Finding` into a `PatternAlert` only if no other
alert of the same pattern and subject was raised within the cooldown (a Redis
key set NX: every dlq-svc process shares it), names the dead letters already
stored for its sample jobs (the store's per-job index), appends it to the
alert stream (WatchAlerts follows it, resumably), keeps it among the active
alerts for one cooldown (a new watcher's snapshot), and publishes it on
`system:events`.

`PatternFeed` is the loop that feeds the detector: it reads every queue's
event stream through one consumer group (each event reaches one dlq-svc
process, and a restarted one goes on where the group stopped), and hands
each failed attempt and each completion to `patterns.PatternDetector`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

import redis.asyncio as aioredis
from google.protobuf.message import DecodeError
from redis.exceptions import RedisError

from dlq_svc.patterns import Finding, PatternDetector
from dlq_svc.store import DeadLetterStore, now_ms
from jobmesh.dlq.v1 import alert_pb2
from jobmesh.dlq.v1 import classification_pb2 as cpb
from queue_system import events
from queue_system.catalog import SYSTEM_EVENTS_CHANNEL
from queue_system.dead_letters import ensure_groups
from queue_system.failure import timestamp_ms
from queue_system.keys import ALERTS_MAXLEN, PATTERN_GROUP, DeadLetterKeys, EntryField, QueueKeys
from queue_system.outages import TRANSIENT, Outage, stop_if_cancelled
from queue_system.streams import Follow

log = logging.getLogger(__name__)

SERVICE: Final = "dlq-svc"
_ALERT: Final = b"alert"
_NAME: Final = EntryField.EVENT_NAME.encode()
_DATA: Final = EntryField.EVENT_DATA.encode()
FAILURES: Final = (b"job_retried", b"job_failed")
READ_COUNT: Final = 500
Entries = list[tuple[bytes, dict[bytes, bytes]]]


def _ms(duration: object) -> int:
    """'0.250s' (proto3 JSON of a Duration) -> 250."""
    if isinstance(duration, str) and duration.endswith("s"):
        try:
            return int(float(duration[:-1]) * 1000)
        except ValueError:
            return 0
    return 0


class AlertLog:
    """The pattern alerts of one QUEUE_PREFIX."""

    def __init__(self, client: aioredis.Redis, prefix: str, cooldown_ms: int) -> None:
        self.client = client
        self.keys = DeadLetterKeys(prefix)
        self.cooldown_ms = cooldown_ms
        self.store = DeadLetterStore(client, prefix)

    async def raise_alert(self, finding: Finding) -> alert_pb2.PatternAlert | None:
        """The alert of `finding`, stored and announced; None when one was raised within the cooldown."""
        pattern = cpb.PatternType.Name(finding.pattern)
        # the dead letters already stored for the sample jobs; the pattern is usually seen on failed
        # attempts before their jobs are dead-lettered (or while they are still retried), so fewer
        # than the samples, or none, is normal. Looked up before the cooldown is claimed: a Redis
        # error here leaves the claim free, not held for a cooldown by an alert never stored.
        dead = await self.store.of_jobs(finding.sample_job_ids, limit=max(1, len(finding.sample_job_ids)))
        first = await self.client.set(
            self.keys.alert_raised(pattern, finding.subject), 1, nx=True, px=self.cooldown_ms
        )
        if not first:
            return None
        at = now_ms()
        alert = alert_pb2.PatternAlert(
            alert_id=f"{pattern.removeprefix('PATTERN_TYPE_').lower()}-{finding.subject}-{at}",
            pattern=finding.pattern,  # type: ignore[arg-type]
            severity=finding.severity,  # type: ignore[arg-type]
            queue=finding.queue,
            category=finding.category,  # type: ignore[arg-type]
            count=finding.count,
            message=finding.message,
            detected_at=timestamp_ms(at),
            suggested_action=finding.suggested_action,
            evidence=finding.evidence,
            sample_job_ids=finding.sample_job_ids,
            sample_dead_letter_ids=dead,
        )
        alert.window.FromMilliseconds(finding.window_ms)
        raw = alert.SerializeToString()
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xadd(self.keys.alerts, {_ALERT: raw}, maxlen=ALERTS_MAXLEN, approximate=True)
            pipe.zadd(self.keys.active_alerts, {raw: at + self.cooldown_ms})
            pipe.zremrangebyscore(self.keys.active_alerts, "-inf", at)
            pipe.publish(SYSTEM_EVENTS_CHANNEL, events.event_json(SERVICE, "pattern_alert", alert))
            await pipe.execute()
        log.warning("pattern alert %s: %s", alert.alert_id, alert.message)
        return alert

    async def active(self) -> list[alert_pb2.PatternAlert]:
        """Alerts raised within their cooldown, newest first."""
        raws = cast(list[bytes], await self.client.zrangebyscore(self.keys.active_alerts, now_ms(), "+inf"))
        alerts = [alert_pb2.PatternAlert.FromString(r) for r in raws]
        return sorted(alerts, key=lambda a: a.detected_at.ToMilliseconds(), reverse=True)

    def follow(self, min_severity: int = 0) -> Follow[alert_pb2.PatternAlert]:
        """The alert stream, for WatchAlerts: only alerts at or above `min_severity`."""

        def parse(name: str, entry_id: bytes, fields: Mapping[bytes, bytes]) -> alert_pb2.PatternAlert | None:
            try:
                alert = alert_pb2.PatternAlert.FromString(fields[_ALERT])
            except (KeyError, DecodeError) as exc:
                log.warning("skipping alert %s that does not decode: %r", entry_id, exc)
                return None
            return alert if alert.severity >= min_severity else None

        return Follow({"alerts": self.keys.alerts}, parse)


class PatternFeed:
    """Feeds every queue's failure and completion events to a detector, and raises what it finds."""

    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        queues: Sequence[str],
        consumer: str,
        *,
        detector: PatternDetector,
        alerts: AlertLog,
    ) -> None:
        self.client = client
        self.consumer = consumer
        self.detector = detector
        self.alerts = alerts
        self.streams = {QueueKeys(prefix, q).events: q for q in queues}

    async def ensure_group(self) -> None:
        """The group on every event stream, from now on (older events are history, not news)."""
        await ensure_groups(self.client, self.streams, PATTERN_GROUP, start="$")

    def observe(self, queue: str, entry_id: bytes, fields: Mapping[bytes, bytes]) -> list[Finding]:
        """What one event completes (nothing for events that are neither a failure nor a completion)."""
        name = fields.get(_NAME, b"")
        if name not in FAILURES and name != b"job_completed":
            return []
        try:
            data: dict[str, Any] = json.loads(fields.get(_DATA, b"{}"))
        except ValueError:
            return []
        at = int(entry_id.split(b"-", 1)[0])
        run_ms = _ms(data.get("duration"))
        if name == b"job_completed":
            return self.detector.completed(queue, at, run_ms)
        return self.detector.failed(
            queue, str(data.get("jobId", "")), str(data.get("failedReason", "")), at, run_ms
        )

    async def step(self, block_ms: int = 1000) -> list[alert_pb2.PatternAlert]:
        """Read one batch of events, and raise the alerts they complete."""
        got = await self.client.xreadgroup(
            PATTERN_GROUP,
            self.consumer,
            cast(Any, dict.fromkeys(self.streams, ">")),
            count=READ_COUNT,
            block=block_ms,
            noack=True,
        )
        raised = []
        for stream, entries in cast(list[tuple[bytes, Entries]], got or []):
            queue = self.streams[stream.decode()]
            for entry_id, fields in entries:
                for finding in self.observe(queue, entry_id, fields):
                    alert = await self.alerts.raise_alert(finding)
                    if alert is not None:
                        raised.append(alert)
        return raised

    async def run(self) -> None:
        """Feed until cancelled; a Redis outage only pauses it."""
        outage = Outage("pattern analysis", log)
        ready = False
        while True:
            stop_if_cancelled()
            try:
                if not ready:
                    await self.ensure_group()
                    ready = True
                await self.step()
                outage.over()
            except (*TRANSIENT, RedisError) as exc:
                ready = False
                await outage.wait(exc)
