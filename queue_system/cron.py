"""The slots of a five-field cron in a time zone, as UTC instants, with a stated DST policy.

A slot is a wall-clock time the cron matches in the schedule's zone (croniter walks wall time,
naive, so no DST arithmetic of its own is involved), turned into one UTC instant by zoneinfo with
`fold=0`:

- a wall time that happens twice (the repeated hour when clocks go back) is its first occurrence,
  so `30 1 * * *` runs once on that day, at 01:30 summer time;
- a wall time that never happens (the hour skipped when clocks go forward) is moved forward by the
  jump: `30 1 * * *` in Europe/London runs at 02:30 BST on that day (01:30 UTC), never not at all;
  where that lands on another slot's instant (an hourly cron's 01:00 and 02:00 both become 01:00 UTC)
  the two are one slot.

A slot's identity is its UTC instant: what the job ids of its run are derived from, so every
scheduler replica computes the same slots and the same ids.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

# Widest gap between a wall time and its instant's neighbours that a DST change can open (the
# largest offset change in use is 2 hours); slots are searched this much beyond each end.
_MARGIN = timedelta(hours=3)


def valid_cron(expr: str) -> bool:
    """Whether `expr` is a five-field cron croniter reads."""
    return len(expr.split()) == 5 and croniter.is_valid(expr)


def _instant(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def slots_between(expr: str, zone: ZoneInfo, after: datetime, until: datetime) -> list[datetime]:
    """Slots of `expr` in `zone` with after < slot <= until (UTC instants, ascending, distinct)."""
    if until <= after:
        return []
    start = after.astimezone(zone).replace(tzinfo=None) - _MARGIN
    stop = until.astimezone(zone).replace(tzinfo=None) + _MARGIN
    found: set[datetime] = set()
    walker = croniter(expr, start)
    while (wall := walker.get_next(datetime)) <= stop:
        instant = _instant(wall, zone)
        if after < instant <= until:
            found.add(instant)
    return sorted(found)


def next_slots(expr: str, zone: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """The first `count` slots after `after`."""
    horizon = timedelta(days=2)
    while True:
        found = slots_between(expr, zone, after, after + horizon)
        if len(found) >= count or horizon > timedelta(days=3660):
            return found[:count]
        horizon *= 8


def slot_tag(slot: datetime) -> str:
    """A slot's instant as it appears in job ids: `20261025T0600Z` (no ':', sortable)."""
    return slot.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
