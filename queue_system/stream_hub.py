"""One Redis reader for every watch of a process: each stream read once, handed to every follower.

Why: a watch that reads Redis itself holds a pooled connection in its own
blocking XREAD, so a hundred watches take every connection of the pool and
the rest of the service waits; a thousand watches of ten strategies read each
change ten times. A `StreamHub` runs one reader task on a connection of its
own (`stream_link`) that blocks on XREAD over the union of the streams its
followers follow and queues each batch for every follower of that stream
(`stream_subscriber`).

- Joining and leaving: `entries()` joins at the follower's positions. A stream
  the hub does not read yet is read from there; a follower behind the hub reads
  the entries between itself and the hub from Redis first (on the shared pool),
  while the hub already queues what comes after: a hand-over on entry ids, with
  no gap and nothing twice. A stream newly followed while the reader blocks is
  read at once: the hub unblocks its own read (CLIENT UNBLOCK from the pool;
  the read simply returns), and the short block (BLOCK_MS) bounds the wait when
  that cannot be done. A follower that goes away (its task cancelled) leaves
  in its `finally`, at once, whatever redis-py does with cancellations.
- Slow followers: a follower whose queue would pass its bound is dropped from
  the hub, never waited for; it hands on what it holds, reads on from Redis
  from its own position, and joins again once caught up.
- Trimming: the streams are capped, so before a batch is handed on the hub
  checks, in one pipelined round trip for all the batch's streams, that the
  entry it read last is still there (then nothing after it was trimmed);
  otherwise `streams.lost_after` decides and the stream's followers end with
  WATCH_FELL_BEHIND. Never a gap.
- Outages: the reader rides out a lost Redis with `outages.Outage` and reads
  again from the same positions: followers see a pause, not a gap.
- Closing: followers end with UNAVAILABLE, the reader and its connection stop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Final, TypeVar

import redis.asyncio as aioredis

from queue_system.errors import UnavailableError
from queue_system.outages import TRANSIENT, Outage, end_tasks, ride_out, stop_if_cancelled
from queue_system.stream_link import StreamLink, bulk
from queue_system.stream_subscriber import QUEUE_BOUND, HubEntry, Subscriber, hub_entries, read_range
from queue_system.streams import READ_COUNT, Entries, Follow, fell_behind, lost_after, stream_id

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
# The longest the reader blocks: when a newly followed stream cannot be woken for, it waits this long.
BLOCK_MS: Final = 250
# How often, and how far apart, the reader's blocked read is unblocked for a stream newly followed
# (an unblock that lands before the read reached Redis finds nothing to unblock).
WAKE_TRIES: Final = 25
WAKE_PAUSE_S: Final = 0.002
STOP_PATIENCE_S: Final = 5.0


class _Followed:
    """A stream the reader reads: the id it read last (also RESP-encoded), and who follows it."""

    __slots__ = ("key_part", "order", "position", "position_part", "subscribers")

    def __init__(self, key: str, position: str) -> None:
        self.key_part = bulk(key)
        self.subscribers: set[Subscriber] = set()
        self.move(position, stream_id(position))

    def move(self, position: str, order: tuple[int, int]) -> None:
        self.position, self.order, self.position_part = position, order, bulk(position)


Asked = dict[str, tuple[_Followed, str]]


class StreamHub:
    """The process's one reader of followed streams; `entries()` follows some of them through it."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        block_ms: int = BLOCK_MS,
        queue_bound: int = QUEUE_BOUND,
        read_count: int = READ_COUNT,
    ) -> None:
        self.client = client  # the shared pool: followers' own reads, and unblocking the reader
        self.block_ms = block_ms
        self.queue_bound = queue_bound
        self.read_count = read_count
        self._link: StreamLink | None = None
        self._conn_id: int | None = None
        self._followed: dict[str, _Followed] = {}
        self._added = 0  # bumped whenever a stream is newly followed
        self._reading: int | None = None  # `_added` as of the read in flight; None: no read
        self._changed = asyncio.Event()
        self._stopping = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._waker: asyncio.Task[None] | None = None

    @property
    def streams(self) -> list[str]:
        """The streams the reader reads now."""
        return list(self._followed)

    @property
    def subscribers(self) -> int:
        """How many followers the hub queues for now."""
        return len({sub for f in self._followed.values() for sub in f.subscribers})

    async def start(self) -> None:
        """Start the reader (again: nothing). It idles until a stream is followed."""
        if self._stopping.is_set():
            raise UnavailableError("this service is stopping; watch again")
        if self._reader is None:
            self._link = StreamLink(self.client)
            self._reader = asyncio.get_running_loop().create_task(self._read_loop(), name="stream-hub")

    async def close(self) -> None:
        """End every follower (UNAVAILABLE), stop the reader, close its connection."""
        self._stopping.set()
        self._changed.set()
        self._fail_all(UnavailableError("this service is stopping; watch again"))
        tasks = [t for t in (self._reader, self._waker) if t is not None]
        await end_tasks(tasks, STOP_PATIENCE_S, log)
        if self._link is not None:
            await self._link.close()

    async def entries(self, follow: Follow[T], positions: dict[str, str]) -> AsyncIterator[tuple[str, T]]:
        """As streams.entries: every entry after `positions`, forever, (resume token after it, item)."""
        async for sub, entry, item in self._follow(follow, positions):
            yield sub.token(entry), item

    async def messages(
        self, follow: Follow[T], positions: dict[str, str], then: Callable[[str, T], R]
    ) -> AsyncIterator[R]:
        """`then(token, item)` for each of `entries`. A follower of one stream shares it with every
        follower of that stream with the same `parse` and `then` (made once per entry: ten watches
        of a strategy send one response message), so it must not be changed."""
        async for sub, entry, item in self._follow(follow, positions):
            yield sub.message(entry, item, then, follow.parse)

    async def _follow(
        self, follow: Follow[T], positions: dict[str, str]
    ) -> AsyncIterator[tuple[Subscriber, HubEntry, T]]:
        await self.start()
        sub = Subscriber({key: name for name, key in follow.streams.items()}, positions, self.queue_bound)
        try:
            while True:
                for key, upto in self._attach(sub).items():  # behind the hub: read up to it from Redis
                    while sub.orders[key] < stream_id(upto):
                        page = await self._read_range(sub, key, upto)
                        for entry in page:
                            if sub.take(entry) and (item := sub.item(entry, follow.parse)) is not None:
                                yield sub, entry, item
                        if len(page) < self.read_count:
                            break
                while await sub.queued():
                    entry = sub.queue.popleft()
                    if sub.take(entry) and (item := sub.item(entry, follow.parse)) is not None:
                        yield sub, entry, item
                if sub.failure is not None:
                    raise sub.failure
        finally:
            self._detach(sub)

    async def _read_range(self, sub: Subscriber, key: str, upto: str) -> list[HubEntry]:
        outage = Outage(f"catching up on {key}", log, self._stopping)
        name, after = sub.names[key], sub.position(key)
        page = await ride_out(
            lambda: read_range(self.client, key, name, after, upto, count=self.read_count), outage
        )
        stop_if_cancelled()
        return page

    def _attach(self, sub: Subscriber) -> dict[str, str]:
        """Queue for `sub` from now on; the hub's position in each stream `sub` is behind on."""
        if self._stopping.is_set():
            raise UnavailableError("this service is stopping; watch again")
        behind = {}
        for key in sub.names:
            followed = self._followed.get(key)
            if followed is None:
                followed = self._followed[key] = _Followed(key, sub.position(key))
                self._added += 1
                self._wake_reader()
            elif followed.order > sub.orders[key]:
                behind[key] = followed.position
            followed.subscribers.add(sub)
        sub.attached = True
        return behind

    def _detach(self, sub: Subscriber) -> None:
        sub.attached = False
        for key in sub.names:
            followed = self._followed.get(key)
            if followed is not None:
                followed.subscribers.discard(sub)
                if not followed.subscribers:
                    del self._followed[key]

    def _fail_all(self, exc: BaseException) -> None:
        for followed in list(self._followed.values()):
            for sub in list(followed.subscribers):
                self._detach(sub)
                sub.fail(exc)

    def _wake_reader(self) -> None:
        """A stream is newly followed: have the blocked read return, to read it too."""
        self._changed.set()
        if self._reading is not None and (self._waker is None or self._waker.done()):
            self._waker = asyncio.get_running_loop().create_task(self._unblock(), name="stream-hub-wake")

    async def _unblock(self) -> None:
        for _ in range(WAKE_TRIES):
            conn_id = self._conn_id
            if self._reading is None or self._reading >= self._added or conn_id is None:
                return
            try:
                if await self.client.client_unblock(conn_id):
                    return
            except TRANSIENT:
                return
            await asyncio.sleep(WAKE_PAUSE_S)

    async def _read_loop(self) -> None:
        assert self._link is not None
        link = self._link
        outage = Outage("stream hub", log, self._stopping)
        while not self._stopping.is_set():
            stop_if_cancelled()
            if not self._followed:
                self._changed.clear()
                await self._changed.wait()
                continue
            asked: Asked = {key: (f, f.position) for key, f in self._followed.items()}
            followed = list(self._followed.values())
            try:
                if self._conn_id is None:
                    self._conn_id = await link.client_id()
                self._reading = self._added
                try:
                    got = await link.xread(
                        [f.key_part for f in followed],
                        [f.position_part for f in followed],
                        count=self.read_count,
                        block_ms=self.block_ms,
                    )
                finally:
                    self._reading = None
                stop_if_cancelled()
                if got:
                    await self._deliver(asked, got)
                outage.over()
            except TRANSIENT as exc:
                stop_if_cancelled()
                self._conn_id = None  # a new connection is a new client id
                await outage.wait(exc)
            except Exception as exc:  # e.g. a followed key that is not a stream: its followers learn it
                log.exception("stream hub: reading %s failed", ", ".join(asked))
                self._fail_all(exc)

    async def _deliver(self, asked: Asked, got: list[tuple[bytes, Entries]]) -> None:
        """Queue each stream's batch for its followers, once it is known that nothing before it was lost."""
        batches = []
        for raw_key, raw in got:
            key = raw_key.decode()
            followed, position = asked[key]
            if raw and self._followed.get(key) is followed:
                batches.append((key, followed, position, hub_entries(key, raw)))
        lost = await self._lost([(key, position) for key, _, position, _ in batches])
        for key, followed, position, entries in batches:
            if self._followed.get(key) is not followed or followed.position != position:
                continue  # left (and maybe followed again) meanwhile: read again from where it is now
            if key in lost:
                for sub in list(followed.subscribers):
                    self._detach(sub)
                    sub.fail(fell_behind(sub.names[key]))
                continue
            followed.move(entries[-1].id, entries[-1].order)
            for sub in list(followed.subscribers):
                if not sub.push(entries):
                    self._detach(sub)
                    sub.detached()

    async def _lost(self, checks: list[tuple[str, str]]) -> set[str]:
        """The streams whose entries after the position read from were trimmed unread."""
        if not checks:
            return set()
        assert self._link is not None
        present = await self._link.present(checks)
        lost = set()
        for (key, position), here in zip(checks, present, strict=True):
            if not here and await lost_after(self.client, key, position):
                lost.add(key)
        return lost

