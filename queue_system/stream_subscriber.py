"""One follower of a StreamHub: where it is in each stream, what the hub queued for it, its own reads.

The hub reads each stream once for every follower; a follower hands entries
on at its own pace. What sits between them is this bounded queue: the hub
appends a batch to it, or, when the follower is too far behind to take it,
drops the follower (`push` answers False) instead of blocking the others or
holding ever more entries. Such a follower, and one that starts behind the
hub, reads what it misses from Redis itself (`read_range`, on the shared
pool) from exactly where it is, then is queued for again. Its position in
each stream is the id of the last entry it handed on, and it hands on only
entries after it: whichever way an entry comes, it comes once and in order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple, TypeVar, cast

import redis.asyncio as aioredis

from queue_system.streams import Entries, Fields, fell_behind, lost_after, stream_id
from queue_system.tokens import encode_token

T = TypeVar("T")
R = TypeVar("R")

# Entries a follower may have waiting before the hub drops it (it then reads Redis itself).
QUEUE_BOUND: Final = 2000


class HubEntry(NamedTuple):
    """One stream entry as the hub read it, decoded once for every follower.

    `memo` holds what followers derive from it alike, so that ten followers of
    one stream do it once: the item a parse function makes of it, and the resume
    token of a follower of that one stream.
    """

    key: str
    id: str
    order: tuple[int, int]  # the id as numbers, to compare
    raw_id: bytes
    fields: dict[bytes, bytes]
    memo: dict[object, Any]


def hub_entries(key: str, batch: Entries) -> list[HubEntry]:
    out = []
    for raw_id, fields in batch:
        entry_id = raw_id.decode()
        out.append(HubEntry(key, entry_id, stream_id(entry_id), raw_id, fields, {}))
    return out


class Subscriber:
    """A follower's state: its position per stream, and the entries the hub queued for it.

    `names` maps each Redis stream key it follows to the name resume tokens use.
    """

    def __init__(self, names: Mapping[str, str], positions: dict[str, str], bound: int = QUEUE_BOUND) -> None:
        self.names = dict(names)
        self.positions = positions  # name -> id of the last entry handed on
        self.orders = {key: stream_id(positions[name]) for key, name in self.names.items()}
        self.queue: deque[HubEntry] = deque()
        self.bound = bound
        self.attached = False  # the hub queues entries for it
        self.failure: BaseException | None = None
        self._wake = asyncio.Event()

    def position(self, key: str) -> str:
        return self.positions[self.names[key]]

    def push(self, entries: list[HubEntry]) -> bool:
        """Queue entries the hub read; False (and nothing queued) when that would pass the bound."""
        if len(self.queue) + len(entries) > self.bound:
            return False
        self.queue.extend(entries)
        self._wake.set()
        return True

    def detached(self) -> None:
        """The hub queues no more for it: it reads on from Redis once its queue is empty."""
        self.attached = False
        self._wake.set()

    def fail(self, exc: BaseException) -> None:
        """End it with `exc` once it has handed on what it holds."""
        self.failure = exc
        self.detached()

    def take(self, entry: HubEntry) -> bool:
        """Move past `entry`: True when it is new to this follower, False when already handed on."""
        if entry.order <= self.orders[entry.key]:
            return False
        self.orders[entry.key] = entry.order
        self.positions[self.names[entry.key]] = entry.id
        return True

    def item(self, entry: HubEntry, parse: Callable[[str, bytes, Fields], T | None]) -> T | None:
        """What `parse` makes of `entry` (once per entry for every follower with this parse function)."""
        key = (parse, self.names[entry.key])
        if key not in entry.memo:
            entry.memo[key] = parse(key[1], entry.raw_id, entry.fields)
        item: T | None = entry.memo[key]
        return item

    def token(self, entry: HubEntry) -> str:
        """The resume token right after `entry`, which it has just taken."""
        if len(self.positions) != 1:
            return encode_token(self.positions)
        name = self.names[entry.key]  # one stream: the same token for every follower of it
        token: str | None = entry.memo.get(name)
        if token is None:
            token = entry.memo[name] = encode_token(self.positions)
        return token

    def message(
        self,
        entry: HubEntry,
        item: T,
        then: Callable[[str, T], R],
        parse: Callable[[str, bytes, Fields], T | None],
    ) -> R:
        """`then(token, item)` for `entry`: once per entry for every follower of that one stream
        with the same `then` and `parse` (the token and the item are the same for all of them)."""
        if len(self.positions) != 1:
            return then(encode_token(self.positions), item)
        key = (then, parse, self.names[entry.key])
        if key not in entry.memo:
            entry.memo[key] = then(self.token(entry), item)
        message: R = entry.memo[key]
        return message

    async def queued(self) -> bool:
        """Wait for queued entries: True when there are, False when the hub no longer queues for it."""
        while not self.queue:
            if not self.attached:
                return False
            self._wake.clear()
            await self._wake.wait()
        return True


async def read_range(
    client: aioredis.Redis, key: str, name: str, after: str, upto: str, *, count: int
) -> list[HubEntry]:
    """Up to `count` entries of `key` after `after` and up to `upto` (both ids), read from Redis.

    The range starts at `after` itself: when that entry is still there, nothing after
    it was trimmed and no extra command is needed to know it. Otherwise (or from
    "0-0") `lost_after` decides, and entries lost are WATCH_FELL_BEHIND, never a gap.
    """
    got = cast(Entries, await client.xrange(key, after, upto, count=count + 1))
    if got and got[0][0].decode() == after:
        got = got[1:]
    elif await lost_after(client, key, after):
        raise fell_behind(name)
    return hub_entries(key, got[:count])
