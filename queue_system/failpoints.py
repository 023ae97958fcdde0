"""Failpoints: named places in job code where a fault test makes a real process wait.

A fault test has to kill or stall a worker at one exact place of a job (after
the order went out, before the job was acknowledged), and a sleep in the test
cannot aim that well. `JOBMESH_FAILPOINTS="name=seconds,..."` makes
`await failpoint(name)` wait that long at that place, long enough for the test
to send SIGKILL or SIGSTOP while the process is provably there. Unset (as in
production) a failpoint costs one dict lookup. The variable is read once per
process, and a service checks it at start-up (service_kit.server.run_service),
so a bad value stops it with one line instead of surfacing mid-job.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
from typing import Final

from queue_system.settings import ConfigError

log = logging.getLogger(__name__)

VARIABLE: Final = "JOBMESH_FAILPOINTS"
_ENTRY: Final = re.compile(r"^([a-z0-9][a-z0-9._-]{0,99})=(\d{1,6}(?:\.\d{1,3})?)$")


def parse(raw: str) -> dict[str, float]:
    """`name=seconds,...` -> {name: seconds}; ConfigError naming the variable otherwise."""
    points: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        m = _ENTRY.match(part)
        if m is None:
            raise ConfigError(VARIABLE, "name=seconds[,...] (e.g. strategy-execution.after-order=30)", raw)
        points[m.group(1)] = float(m.group(2))
    return points


@functools.cache
def configured() -> dict[str, float]:
    """The failpoints of this process (read once); each one set is logged, as it delays jobs."""
    points = parse(os.environ.get(VARIABLE, ""))
    for name, seconds in points.items():
        log.warning("failpoint %s set: jobs passing it wait %ss (for fault tests only)", name, seconds)
    return points


async def failpoint(name: str) -> None:
    """Wait here for as long as JOBMESH_FAILPOINTS says for `name` (not at all when unset)."""
    seconds = configured().get(name)
    if seconds:
        log.warning("failpoint %s: waiting %ss", name, seconds)
        await asyncio.sleep(seconds)
