"""Where strategies live: Redis, changed only atomically, with their history as the audit trail.

A strategy is one hash (its `Strategy` record, its version, the jobs its state
waits for) plus a history stream of every transition. Every change goes
through one Lua script that first compares the version the writer read
(optimistic concurrency): a trading-svc killed mid-way and restarted, or two
replicas deciding at once, never lose or corrupt a strategy; the loser reads
again and decides again. A transition also lands in the history (never
trimmed: replaying it reproduces the current state), in a capped stream of
all changes, in the state indexes ListStrategies filters on, and on
`trading:events`, in the same script.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Final, cast

import redis.asyncio as aioredis
from google.protobuf.message import Message

from jobmesh.trading.v1 import strategy_pb2 as spb
from queue_system import events
from queue_system.catalog import TRADING_EVENTS_CHANNEL
from queue_system.index_page import IndexPages
from queue_system.keys import EVENTS_MAXLEN, IDEMPOTENCY_TTL_S, StrategyField, StrategyKeys
from queue_system.tokens import decode_token, encode_token
from trading_svc.fsm import state_name

SERVICE: Final = "trading-svc"
_RECORD: Final = StrategyField.RECORD.encode()
_VERSION: Final = StrategyField.VERSION.encode()
_AWAITING: Final = StrategyField.AWAITING.encode()


@dataclass(frozen=True, slots=True)
class Stored:
    """A strategy as read: its record, the version to compare on the next change, what it awaits."""

    strategy: spb.Strategy
    awaiting: tuple[str, ...] = ()

    @property
    def version(self) -> int:
        return int(self.strategy.version)

    @property
    def state(self) -> str:
        return state_name(self.strategy.state)


@dataclass(frozen=True, slots=True)
class Filters:
    """ListStrategies' filters; empty means any."""

    states: tuple[str, ...] = ()
    strategy_name: str = ""
    exchange: str = ""
    symbol: str = ""
    dimensions: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        named = {"name": self.strategy_name, "exchange": self.exchange, "symbol": self.symbol}
        object.__setattr__(self, "dimensions", {k: v for k, v in named.items() if v})


def event_json(name: str, data: Message) -> str:
    """A trading-svc event in the seed's shape, for `trading:events`."""
    return events.event_json(SERVICE, name, data)


def _script(name: str) -> str:
    return (files("trading_svc") / "lua" / f"{name}.lua").read_text()


class StrategyStore:
    """The strategies of one QUEUE_PREFIX."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.keys = StrategyKeys(prefix)
        self._deploy = client.register_script(_script("deploy"))
        self._commit = client.register_script(_script("commit"))
        self._pages = IndexPages(client, self.keys.all)

    def _fields(self) -> list[str]:
        return [StrategyField.RECORD, StrategyField.VERSION, StrategyField.AWAITING]

    async def deploy(
        self,
        strategy: spb.Strategy,
        first: spb.StrategyTransition,
        *,
        awaiting: Sequence[str],
        request_id: str,
        events: Sequence[str],
    ) -> str:
        """Store a new strategy with its first transition; the id a repeated request_id made before
        (then nothing is created), or '' when the id is taken."""
        k, s = self.keys, strategy
        keys = [
            k.strategy(s.strategy_id),
            k.history(s.strategy_id),
            k.all,
            k.by("state", state_name(s.state)),
            k.by("name", s.strategy_name),
            k.by("exchange", s.exchange),
            k.by("symbol", s.symbol),
            k.request(request_id) if request_id else k.strategy(s.strategy_id),
            k.changes,
        ]
        args: list[Any] = [
            s.strategy_id,
            s.SerializeToString(),
            s.version,
            s.deployed_at.ToMilliseconds(),
            first.SerializeToString(),
            request_id,
            IDEMPOTENCY_TTL_S,
            json.dumps(list(awaiting)),
            *self._fields(),
            TRADING_EVENTS_CHANNEL,
            EVENTS_MAXLEN,
            *events,
        ]
        made = await self._deploy(keys=keys, args=args)
        return made.decode() if isinstance(made, bytes) else str(made)

    async def get(self, strategy_id: str) -> Stored | None:
        got = cast(
            list[bytes | None], await self.client.hmget(self.keys.strategy(strategy_id), self._fields())
        )
        record, _, awaiting = got
        if record is None:
            return None
        return Stored(spb.Strategy.FromString(record), tuple(json.loads(awaiting or b"[]")))

    async def get_many(self, strategy_ids: Sequence[str]) -> list[spb.Strategy]:
        if not strategy_ids:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for sid in strategy_ids:
                pipe.hget(self.keys.strategy(sid), StrategyField.RECORD)
            records = cast(list[bytes | None], await pipe.execute())
        return [spb.Strategy.FromString(r) for r in records if r is not None]

    async def commit(
        self,
        before: Stored,
        after: spb.Strategy,
        *,
        transition: spb.StrategyTransition | None = None,
        awaiting: Sequence[str] | None = None,
        events: Sequence[str] = (),
    ) -> bool:
        """Write `after` (its version one past `before`'s) if the strategy is still at `before`'s
        version; False when someone changed it meanwhile (read again, decide again)."""
        k, sid = self.keys, after.strategy_id
        keys = [
            k.strategy(sid),
            k.history(sid),
            k.by("state", before.state),
            k.by("state", state_name(after.state)),
            k.changes,
        ]
        args: list[Any] = [
            sid,
            before.version,
            after.SerializeToString(),
            after.version,
            transition.SerializeToString() if transition is not None else "",
            after.deployed_at.ToMilliseconds(),
            json.dumps(list(before.awaiting if awaiting is None else awaiting)),
            *self._fields(),
            TRADING_EVENTS_CHANNEL,
            EVENTS_MAXLEN,
            *events,
        ]
        return bool(await self._commit(keys=keys, args=args))

    async def history(
        self, strategy_id: str, page_size: int, page_token: str = ""
    ) -> tuple[list[spb.StrategyTransition], str]:
        """Transitions oldest first, a page at a time."""
        after = str(decode_token(page_token, "page_token").get("after", "-"))
        start = after if after == "-" else f"({after}"
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            await self.client.xrange(self.keys.history(strategy_id), start, "+", count=page_size + 1),
        )
        page = entries[:page_size]
        transitions = [spb.StrategyTransition.FromString(f[b"transition"]) for _, f in page]
        more = len(entries) > page_size
        return transitions, encode_token({"after": page[-1][0].decode()}) if more else ""

    async def recent_history(self, strategy_id: str, count: int) -> list[spb.StrategyTransition]:
        """The latest `count` transitions, newest last."""
        entries = cast(
            list[tuple[bytes, dict[bytes, bytes]]],
            await self.client.xrevrange(self.keys.history(strategy_id), count=count),
        )
        return [spb.StrategyTransition.FromString(f[b"transition"]) for _, f in reversed(entries)]

    async def page(self, filters: Filters, page_size: int, page_token: str = "") -> tuple[list[str], str]:
        """Ids of one page of strategies passing `filters`, newest deploy first; the next page's token."""
        groups: list[list[str]] = [[self.keys.by(d, v)] for d, v in filters.dimensions.items()]
        if filters.states:
            groups.append([self.keys.by("state", s) for s in filters.states])
        return await self._pages.page(groups, page_size, page_token)

    async def count_by_state(self, states: Sequence[str]) -> dict[str, int]:
        async with self.client.pipeline(transaction=False) as pipe:
            for s in states:
                pipe.zcard(self.keys.by("state", s))
            counts = await pipe.execute()
        return {s: int(n) for s, n in zip(states, counts, strict=True)}

    async def ids_in(self, states: Sequence[str]) -> list[str]:
        """Every strategy id in any of `states`."""
        out: list[str] = []
        for s in states:
            out += [
                x.decode()
                for x in cast(list[bytes], await self.client.zrange(self.keys.by("state", s), 0, -1))
            ]
        return out
