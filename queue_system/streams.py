"""Following Redis streams from a resume token: every entry after it, in order, none twice.

What every watch follows (queue events, strategy transitions; dead-letter
alerts next). A `Follow` names its streams, reads them from the positions a
resume token holds (or from their current ends), and yields each entry with
the token that resumes right after it. Entries a `parse` callable turns down
(a filter) still move the token on. `entries` reads Redis itself, for a lone
reader (trading_svc's driver); watches go through the process's one
`stream_hub.StreamHub`, which hands entries on with the same guarantees.

Slow readers: entries are read a batch at a time and handed on one by one,
so a reader that takes its time reads Redis at its own pace and holds no
more than one batch. The streams are capped (keys.EVENTS_MAXLEN); a reader
so far behind that entries it has not seen were trimmed learns it at once
(FailedPreconditionError, reason WATCH_FELL_BEHIND) rather than silently
missing them, and must start again without its token. A token older than
what a stream keeps is refused the same way (RESUME_TOKEN_EXPIRED).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar, cast

import redis.asyncio as aioredis

from queue_system.errors import FailedPreconditionError
from queue_system.outages import stop_if_cancelled
from queue_system.tokens import decode_token, encode_token, not_our_token

log = logging.getLogger(__name__)

T = TypeVar("T")
READ_COUNT: Final = 500
BLOCK_MS: Final = 5000
Fields = Mapping[bytes, bytes]
Entries = list[tuple[bytes, dict[bytes, bytes]]]


def stream_id(raw: str) -> tuple[int, int]:
    ms, _, seq = raw.partition("-")
    return int(ms), int(seq or 0)


@dataclass(frozen=True, slots=True)
class Follow(Generic[T]):
    """What to follow: streams by name (the names resume tokens use) and how to read an entry.

    `parse(name, entry_id, fields)` returns the item to hand on, or None to
    pass over the entry (a filter). An entry it cannot read should be logged
    and passed over: one bad entry must never end a watch. It must depend on
    nothing else, and its items must not be changed: a stream hub parses an
    entry once for every follower with the same parse function.
    """

    streams: Mapping[str, str]  # name -> Redis stream key
    parse: Callable[[str, bytes, Fields], T | None]


def resume_positions(token: str, names: list[str], field: str = "resume_token") -> dict[str, str]:
    """The positions a resume token holds for `names` (streams it does not name are absent)."""
    raw = decode_token(token, field)
    if not all(isinstance(v, str) for v in raw.values()):
        raise not_our_token(field)
    try:
        for value in raw.values():
            stream_id(str(value))
    except ValueError:
        raise not_our_token(field) from None
    return {n: str(raw[n]) for n in names if n in raw}


async def _last_id(client: aioredis.Redis, stream: str) -> str:
    last = cast(Entries, await client.xrevrange(stream, count=1))
    return last[0][0].decode() if last else "0-0"


async def lost_after(client: aioredis.Redis, stream: str, position: str) -> bool:
    """Whether entries after `position` were trimmed before they could be read.

    Trimming takes entries from the head of a stream: while the entry at
    `position` is there, everything after it is too (one XRANGE, the usual
    answer). When it is gone and the stream now starts after it, entries
    after it may have gone with it, and the reader is told so (trimming is by
    whole nodes of ~100 entries, so a position trimmed with nothing after it
    is rare). From "0-0" (an empty stream when the reader began), entries were
    lost when more were ever added than the stream holds.
    """
    if position != "0-0" and await client.xrange(stream, position, position):
        return False
    if not await client.exists(stream):
        return False
    info = await client.xinfo_stream(stream)
    if position == "0-0":
        return int(info["entries-added"]) > int(info["length"])
    first = info.get("first-entry")
    return first is not None and stream_id(first[0].decode()) > stream_id(position)


def fell_behind(name: str) -> FailedPreconditionError:
    """What a reader gets whose unread entries of `name` were trimmed away."""
    return FailedPreconditionError(
        f"this watch fell more than the kept events behind {name}; events were dropped, "
        "watch again without a resume token",
        "WATCH_FELL_BEHIND",
        name,
    )


async def start(client: aioredis.Redis, follow: Follow[Any], token: str) -> dict[str, str]:
    """Where each stream is read from: the token's positions, else the streams' current ends."""
    names = list(follow.streams)
    given = resume_positions(token, names)
    positions = {}
    for name, stream in follow.streams.items():
        if name in given:
            if await lost_after(client, stream, given[name]):
                raise FailedPreconditionError(
                    f"resume token for {name} is older than the events still kept; watch again without it",
                    "RESUME_TOKEN_EXPIRED",
                    name,
                )
            positions[name] = given[name]
        else:
            positions[name] = await _last_id(client, stream)
    return positions


async def entries(
    client: aioredis.Redis, follow: Follow[T], positions: dict[str, str]
) -> AsyncIterator[tuple[str, T]]:
    """Every entry after `positions`, forever: (resume token right after it, item)."""
    by_key = {key: name for name, key in follow.streams.items()}
    while True:
        asked = {key: positions[name] for key, name in by_key.items()}
        got = cast(
            list[tuple[bytes, Entries]],
            await _cancellable(client.xread(cast(Any, asked), count=READ_COUNT, block=BLOCK_MS)),
        )
        stop_if_cancelled()  # a cancellation an earlier call lost
        for key_bytes, batch in got or []:
            key = key_bytes.decode()
            name = by_key[key]
            if await lost_after(client, key, asked[key]):
                raise fell_behind(name)
            for entry_id, fields in batch:
                positions[name] = entry_id.decode()
                item = follow.parse(name, entry_id, fields)
                if item is not None:
                    yield encode_token(positions), item


async def _cancellable(read: Awaitable[T]) -> T:
    """Await a blocking read so that cancelling the caller stops it at once.

    A watcher gone away cancels its reader mid-XREAD, and redis-py may lose that cancellation
    (redis/redis-py#2028: about one cancel in ten of a blocking XREAD here), leaving the read
    to run out its block. The read runs as a task of its own behind a shield: the caller's
    cancellation always raises at once, and the read is told to stop too, finishing (with its
    connection) by the end of its block at the latest.
    """
    task = asyncio.ensure_future(read)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(_quietly)
        raise


def _quietly(task: asyncio.Future[Any]) -> None:
    """Retrieve the outcome of a read nobody waits for any more (a lost cancellation may end it
    as a TimeoutError), so asyncio does not report it as never retrieved."""
    if not task.cancelled():
        task.exception()


def token_of(positions: Mapping[str, str]) -> str:
    """The resume token of `positions`."""
    return encode_token(positions)
