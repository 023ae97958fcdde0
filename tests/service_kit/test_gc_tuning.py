"""settle_gc: start-up's objects frozen out of the collector's sight, the young threshold raised, and
cycles still collected."""

from __future__ import annotations

import contextlib
import gc
import weakref
from collections.abc import Iterator

from service_kit.gc_tuning import YOUNG_THRESHOLD, settle_gc


@contextlib.contextmanager
def _settled() -> Iterator[None]:
    """settle_gc() for the test, then the collector as it was (the test process goes on)."""
    threshold = gc.get_threshold()
    try:
        settle_gc()
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_settling_freezes_what_exists_and_raises_only_the_young_threshold() -> None:
    _, middle, old = gc.get_threshold()
    with _settled():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_a_cycle_made_after_settling_is_still_collected() -> None:
    with _settled():
        a, b = _Node(), _Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        assert gone() is not None  # a cycle: reference counting alone does not free it
        gc.collect()
        assert gone() is None
