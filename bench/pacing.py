"""A steady rate of changes spread evenly over many streams: what the watch fan-out is fed with.

Stream i of n gets its k-th change at t0 + (k + i/n) / rate, for `rounds`
rounds: n * rate changes a second in all, never bunched at a round's start.
Every change due by the time the pacer wakes is handed over in one batch; a
batch that takes longer than the gap to the next change is caught up by the
next (bigger) batch, and the lag (how late a batch went out) is recorded, so
a source that could not keep up says so instead of silently slowing down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

# (stream index, round) of each change in a batch
Due = Sequence[tuple[int, int]]


@dataclass(slots=True)
class PaceReport:
    sent: int = 0
    batches: int = 0
    seconds: float = 0.0
    lags_ms: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, float]:
        lags = sorted(self.lags_ms) or [0.0]
        return {
            "sent": self.sent,
            "batches": self.batches,
            "seconds": round(self.seconds, 3),
            "rate_per_s": round(self.sent / self.seconds, 1) if self.seconds else 0.0,
            "lag_p50_ms": round(lags[len(lags) // 2], 3),
            "lag_p99_ms": round(lags[min(len(lags) - 1, int(0.99 * len(lags)))], 3),
            "lag_max_ms": round(lags[-1], 3),
        }


async def pace(n: int, rate_hz: float, rounds: int, fire: Callable[[Due], Awaitable[None]]) -> PaceReport:
    """Hand `fire` every change of `rounds` rounds over `n` streams at `rate_hz` per stream."""
    total, step = n * rounds, 1.0 / (rate_hz * n)
    report = PaceReport()
    done = 0
    t0 = time.perf_counter()
    while done < total:
        now = time.perf_counter()
        upto = min(total, int((now - t0) / step) + 1)
        if upto <= done:
            await asyncio.sleep(t0 + done * step - now)
            continue
        report.lags_ms.append((now - (t0 + done * step)) * 1000)
        await fire([(k % n, k // n) for k in range(done, upto)])
        report.batches += 1
        done = upto
    report.sent = total
    report.seconds = time.perf_counter() - t0
    return report
