"""The processors' fixtures: a paper exchange on the test's Redis prefix, its clock held still, and a
job context as a worker hands one over (job id, fencing token)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis

from jobmesh.jobs.v1 import envelope_pb2
from queue_system.context import JobContext
from worker_trading.order_book import Level
from worker_trading.paper_exchange import PaperExchange

T0 = 1_790_000_000_000  # ms epoch; the paper market at this tick is what the tests read back


class Held:
    """A clock that stands still until the test moves it."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@pytest.fixture
def clock() -> Held:
    return Held(T0)


@pytest.fixture
def make_paper(redis_client: aioredis.Redis, queue_prefix: str, clock: Held) -> Callable[..., PaperExchange]:
    def make(cls: type[PaperExchange] = PaperExchange, **options: Any) -> PaperExchange:
        return cls(redis_client, queue_prefix, **{"clock": clock, **options})

    return make


@pytest.fixture
def paper(make_paper: Callable[..., PaperExchange]) -> PaperExchange:
    """The paper venue with its default wallets (100,000 USD, 1 BTC, 20 ETH on every venue)."""
    return make_paper()


def context(job_id: str = "job-1", token: int = 1) -> JobContext:
    """What a worker hands a task: `token` is the job's deliveries, its fencing token."""

    async def progress(_: float) -> bool:
        return True

    return JobContext(
        envelope_pb2.Job(id=job_id, queue="q"), deliveries=token, consumer="c", progress=progress
    )


def walk(levels: tuple[Level, ...], amount: Decimal) -> tuple[Decimal, Decimal]:
    """By hand: (filled, cost) of a taker order of `amount` over `levels`, best first."""
    filled = cost = Decimal(0)
    for level in levels:
        take = min(level.amount, amount - filled)
        if take <= 0:
            break
        filled += take
        cost += level.price * take
    return filled, cost
