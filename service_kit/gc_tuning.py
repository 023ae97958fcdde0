"""The cyclic garbage collector set for a process that streams: no full-collection pause every few seconds.

Why: measured on the watch fan-out (`python -m bench trading --phases watch`,
1,000 WatchStrategy streams at 10,000 messages/s), trading_svc held about
190,000 objects the collector tracks, and a full collection of them took about
100 ms of CPU (several hundred ms of wall time on a busy machine) roughly every
ten seconds; every stream of the process stalls meanwhile, so those pauses were
the fan-out's p99. Almost every per-message object is freed by reference
counting, but with CPython's default young threshold (700 allocations) the
young collection runs so often that thousands of objects a second are caught
while still in flight and promoted; promotions past a quarter of the old
generation are what start a full collection. So:

- the young threshold is raised to `YOUNG_THRESHOLD`: an object in flight is
  gone before a young collection sees it, so few are promoted and full
  collections become rare; a young collection still scans only young objects;
- once start-up is done, what it made (imported modules, classes, the servicers,
  about 50,000 objects, never garbage) is frozen out of the collector's sight,
  so a full collection that does run scans only what came after.

Nothing is disabled: cycles are still found and freed, a little later.
"""

from __future__ import annotations

import gc
from typing import Final

YOUNG_THRESHOLD: Final = 50_000


def settle_gc() -> None:
    """Call once the process has started: collect start-up's garbage, freeze the rest, raise the young
    threshold (the older generations' thresholds stay as they are)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
