"""Failpoints: read from JOBMESH_FAILPOINTS, refused by name when malformed, waiting only where set."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from queue_system import failpoints
from queue_system.settings import ConfigError


def test_entries_are_names_with_seconds() -> None:
    assert failpoints.parse("") == {}
    assert failpoints.parse("a.b=30, c-d=0.25,") == {"a.b": 30.0, "c-d": 0.25}


@pytest.mark.parametrize("raw", ["a.b", "a.b=", "a.b=-1", "A=1", "a=1s", "=3"])
def test_a_malformed_entry_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        failpoints.parse(raw)
    assert caught.value.variable == "JOBMESH_FAILPOINTS"


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("JOBMESH_FAILPOINTS", "here=0.2")
    failpoints.configured.cache_clear()
    yield
    failpoints.configured.cache_clear()


async def test_a_failpoint_waits_only_where_set(configured: None) -> None:
    passing = failpoints.failpoint("elsewhere")
    with pytest.raises(StopIteration):  # done at its first step: it never suspends
        passing.send(None)
    started = time.monotonic()
    await failpoints.failpoint("here")
    assert time.monotonic() - started >= 0.2  # asyncio.sleep never returns early


async def test_a_job_at_a_failpoint_can_still_be_cancelled(configured: None) -> None:
    task = asyncio.ensure_future(failpoints.failpoint("here"))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
