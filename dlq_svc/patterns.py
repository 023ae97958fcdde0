"""Patterns in failures, over sliding windows: recurring_error, spike, queue_degradation.

Fed by every failed attempt (the queues' `job_retried` and `job_failed`
events), not only by the jobs that end dead, and by every completion (a
queue's failure ratio needs both). Pure: no Redis, no clock of its own (each
observation carries its time), so the windows are tested with made-up times.

- recurring_error: the same fingerprint (queue + error type + message with
  its numbers and ids blanked) `threshold` times within `window_ms`;
- spike: a queue's failures in the last SPIKE_WINDOW_MS far above its
  baseline (the average per SPIKE_WINDOW_MS over BASELINE_MS before it);
- queue_degradation: a queue's failure ratio over the last `window_ms` high
  and well above the window before it, or its jobs' run time several times
  what it was.

A finding is raised again only after its subject's cooldown (here per
process; `alerts.AlertLog` holds it across processes), so 50 identical
failures raise one recurring_error, not 50.

The windows live in the process: with several dlq-svc replicas each counts
the share of the events its consumer group hands it, so thresholds hold per
replica (one replica, the default, sees every failure).
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Final

from dlq_svc import classification, risk
from jobmesh.dlq.v1 import classification_pb2 as cpb

C = cpb
P = cpb  # PatternType values
SPIKE_WINDOW_MS: Final = 10_000
BASELINE_MS: Final = 300_000
SPIKE_MIN: Final = 20  # failures in a spike window, at least
SPIKE_FACTOR: Final = 5.0  # times the baseline rate, at least
DEGRADED_RATIO: Final = 0.5  # failure ratio, at least
DEGRADED_RISE: Final = 0.25  # above the window before, at least
DEGRADED_SLOWDOWN: Final = 3.0  # times the earlier mean run time, at least
DEGRADED_MIN: Final = 20  # jobs in the window, at least
SAMPLES: Final = 5
SWEEP_EVERY: Final = 1000  # observations between two sweeps of old fingerprints
_ERROR_WITH: Final = re.compile(r"\b(?:with|retried:)\s+([A-Za-z_][\w.]*)(?::\s+(.*))?$", re.DOTALL)
_ERROR: Final = re.compile(r"^([A-Za-z_][\w.]*):\s+(.*)$", re.DOTALL)
_VOLATILE: Final = re.compile(r"0x[0-9a-fA-F]+|[0-9a-fA-F]{8,}(?:-[0-9a-fA-F]{4,})*|\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Finding:
    """A pattern found: what, about what (a fingerprint or a queue), and the evidence."""

    pattern: int  # PatternType
    subject: str  # what the cooldown is keyed by
    queue: str
    category: int
    severity: int  # RiskLevel
    count: int
    window_ms: int
    message: str
    evidence: str
    suggested_action: str
    sample_job_ids: tuple[str, ...] = ()


def split_error(text: str) -> tuple[str, str]:
    """(exception type, message) of a failure event's reason: "TimeoutError: ..." or a sentence
    ending "... with ValueError: bad account"; ("", text) when it names no exception."""
    for pattern in (_ERROR, _ERROR_WITH):
        m = pattern.search(text.strip())
        if m and (m.group(1)[0].isupper() or "." in m.group(1)):
            return m.group(1), (m.group(2) or "").strip()
    return "", text.strip()


def fingerprint(queue: str, error_type: str, message: str) -> str:
    """Failures that differ only in numbers and ids share a fingerprint."""
    shape = _VOLATILE.sub("#", message)[:300]
    return hashlib.sha1(f"{queue}|{error_type}|{shape}".encode()).hexdigest()[:16]


@dataclass(slots=True)
class _Window:
    """Times (and job ids) of events within a window, oldest first."""

    events: deque[tuple[int, str]] = field(default_factory=deque)

    def add(self, at_ms: int, job_id: str, keep_ms: int) -> None:
        self.events.append((at_ms, job_id))
        while self.events and self.events[0][0] <= at_ms - keep_ms:
            self.events.popleft()

    def count_since(self, since_ms: int) -> int:
        return sum(1 for at, _ in self.events if at > since_ms)

    def samples(self) -> tuple[str, ...]:
        return tuple(job for _, job in list(self.events)[-SAMPLES:][::-1])


@dataclass(slots=True)
class _Runs:
    """(time, failed, run ms) of a queue's finished attempts over two windows."""

    events: deque[tuple[int, bool, int]] = field(default_factory=deque)


class PatternDetector:
    """Sliding windows over one process's share of the failure events."""

    def __init__(self, *, threshold: int, window_ms: int, cooldown_ms: int) -> None:
        self.threshold = threshold
        self.window_ms = window_ms
        self.cooldown_ms = cooldown_ms
        self._recurring: dict[str, _Window] = {}
        self._failures: dict[str, _Window] = {}
        self._runs: dict[str, _Runs] = {}
        self._quiet_until: dict[tuple[int, str], int] = {}
        self._seen = 0

    def _forget_old(self, at_ms: int) -> None:
        """Drop fingerprints and cooldowns nothing happened to for a while (memory stays bounded)."""
        self._seen += 1
        if self._seen % SWEEP_EVERY:
            return
        for fp, window in list(self._recurring.items()):
            if not window.events or window.events[-1][0] <= at_ms - self.window_ms:
                del self._recurring[fp]
        for key, until in list(self._quiet_until.items()):
            if until <= at_ms:
                del self._quiet_until[key]

    def _due(self, pattern: int, subject: str, at_ms: int) -> bool:
        """Whether `subject` may raise `pattern` now (and, if so, not again within the cooldown)."""
        key = (pattern, subject)
        if self._quiet_until.get(key, 0) > at_ms:
            return False
        self._quiet_until[key] = at_ms + self.cooldown_ms
        return True

    def failed(self, queue: str, job_id: str, reason: str, at_ms: int, run_ms: int = 0) -> list[Finding]:
        """One failed attempt: what it completes."""
        self._forget_old(at_ms)
        error_type, message = split_error(reason)
        category = classification.categorize(classification.Failure(error_type, message))
        found = self._recurring_error(queue, job_id, (error_type, message), category, at_ms)
        found += self._spike(queue, job_id, category, at_ms)
        found += self._ran(queue, at_ms, failed=True, run_ms=run_ms)
        return found

    def completed(self, queue: str, at_ms: int, run_ms: int) -> list[Finding]:
        """One completed job (the other half of a failure ratio)."""
        return self._ran(queue, at_ms, failed=False, run_ms=run_ms)

    def _recurring_error(
        self, queue: str, job_id: str, error: tuple[str, str], category: int, at_ms: int
    ) -> list[Finding]:
        error_type, message = error
        fp = fingerprint(queue, error_type, message)
        window = self._recurring.setdefault(fp, _Window())
        window.add(at_ms, job_id, self.window_ms)
        n = len(window.events)
        if n < self.threshold or not self._due(P.PATTERN_TYPE_RECURRING_ERROR, fp, at_ms):
            return []
        severity = max(C.RISK_LEVEL_MEDIUM, risk.level(risk.points(queue, category, 1, 0)))
        what = f"{error_type}: {message}" if error_type else message
        return [
            Finding(
                P.PATTERN_TYPE_RECURRING_ERROR,
                fp,
                queue,
                category,
                severity,
                n,
                self.window_ms,
                f"{queue}: the same error {n} times within {self.window_ms // 1000}s: {what[:200]}",
                f"fingerprint {fp}: {error_type or 'no exception type'} with message shape "
                f"{_VOLATILE.sub('#', message)[:200]!r}",
                _ACTIONS[category],
                window.samples(),
            )
        ]

    def _spike(self, queue: str, job_id: str, category: int, at_ms: int) -> list[Finding]:
        window = self._failures.setdefault(queue, _Window())
        window.add(at_ms, job_id, BASELINE_MS + SPIKE_WINDOW_MS)
        recent = window.count_since(at_ms - SPIKE_WINDOW_MS)
        before = len(window.events) - recent
        baseline = before * SPIKE_WINDOW_MS / BASELINE_MS  # failures per spike window, on average
        if recent < SPIKE_MIN or recent < SPIKE_FACTOR * max(baseline, 1.0):
            return []
        if not self._due(P.PATTERN_TYPE_SPIKE, queue, at_ms):
            return []
        factor = recent / max(baseline, 1.0)
        severity = C.RISK_LEVEL_CRITICAL if factor >= 4 * SPIKE_FACTOR else C.RISK_LEVEL_HIGH
        return [
            Finding(
                P.PATTERN_TYPE_SPIKE,
                queue,
                queue,
                category,
                severity,
                recent,
                SPIKE_WINDOW_MS,
                f"{queue}: {recent} failures in {SPIKE_WINDOW_MS // 1000}s, {factor:.0f}x its baseline",
                f"{recent} failures in the last {SPIKE_WINDOW_MS // 1000}s against {baseline:.1f} per "
                f"{SPIKE_WINDOW_MS // 1000}s over the {BASELINE_MS // 60_000} minutes before",
                "look at what changed just now (a deploy, a venue or provider outage); pause the queue "
                "if its failures have side effects",
                window.samples(),
            )
        ]

    def _ran(self, queue: str, at_ms: int, *, failed: bool, run_ms: int) -> list[Finding]:
        runs = self._runs.setdefault(queue, _Runs())
        runs.events.append((at_ms, failed, run_ms))
        while runs.events and runs.events[0][0] <= at_ms - 2 * self.window_ms:
            runs.events.popleft()
        split = at_ms - self.window_ms
        now = [(f, ms) for at, f, ms in runs.events if at > split]
        then = [(f, ms) for at, f, ms in runs.events if at <= split]
        if len(now) < DEGRADED_MIN:
            return []
        ratio = sum(f for f, _ in now) / len(now)
        before = sum(f for f, _ in then) / len(then) if then else 0.0
        slow_now = sum(ms for _, ms in now) / len(now)
        slow_then = sum(ms for _, ms in then) / len(then) if len(then) >= DEGRADED_MIN else 0.0
        failing = ratio >= DEGRADED_RATIO and ratio - before >= DEGRADED_RISE
        slowing = slow_then > 0 and slow_now >= DEGRADED_SLOWDOWN * slow_then
        if not (failing or slowing) or not self._due(P.PATTERN_TYPE_QUEUE_DEGRADATION, queue, at_ms):
            return []
        evidence = (
            f"failure ratio {ratio:.0%} over the last {self.window_ms // 1000}s against {before:.0%} "
            f"before; mean run time {slow_now:.0f} ms against {slow_then:.0f} ms"
        )
        return [
            Finding(
                P.PATTERN_TYPE_QUEUE_DEGRADATION,
                queue,
                queue,
                C.ERROR_CATEGORY_UNSPECIFIED,
                C.RISK_LEVEL_HIGH,
                len(now),
                self.window_ms,
                f"{queue} is degrading: " + ("failures rising" if failing else "jobs slowing down"),
                evidence,
                "check the queue's dependencies and workers (GetQueueStats, the worker logs); "
                "scale or pause it",
            )
        ]


_ACTIONS: Final[dict[int, str]] = {
    C.ERROR_CATEGORY_UNSPECIFIED: "read the errors of the sample jobs",
    C.ERROR_CATEGORY_TIMEOUT: "check the slow dependency; raise the job timeout only if the work grew",
    C.ERROR_CATEGORY_NETWORK: "check connectivity to the service the jobs call; the retries will follow",
    C.ERROR_CATEGORY_VALIDATION: "fix the producer sending these payloads; retrying will not help",
    C.ERROR_CATEGORY_AUTHORIZATION: "renew or fix the credentials; every job after these will fail too",
    C.ERROR_CATEGORY_RATE_LIMIT: "lower the queue's rate limit (JOBMESH_QUEUE_<NAME>_RATE_LIMIT)",
    C.ERROR_CATEGORY_RESOURCE: "check the workers' memory and disk; these jobs may be too large",
    C.ERROR_CATEGORY_UNKNOWN: "read the stack of a sample job and add a classification rule",
}
