"""One resumable watch for every Watch* RPC: a snapshot first, then every change, resumable.

WatchQueueEvents and WatchStrategy use it; WatchAlerts will. The servicer
says what its snapshot is and how to wrap a snapshot and an item in its
response message; the helper does the rest, the same way for all:

- the stream positions are fixed *before* the snapshot is taken, so nothing
  that happens while it is built is missed (it may show in both);
- every message carries a `resume_token`; a watch started again with it
  misses nothing the streams still hold, in order, none twice;
- filters are the Follow's: an event passed over still moves the token on;
- a slow client is read for at its own pace (gRPC flow control holds the
  stream; the server holds one batch). A client so slow, or away so long,
  that events it has not seen were trimmed gets FAILED_PRECONDITION (reason
  WATCH_FELL_BEHIND, or RESUME_TOKEN_EXPIRED for an old token) and starts a
  fresh watch: it is never silently given a gap;
- every watch of the process reads Redis through the service's one
  `StreamHub` (owned by its app, started and closed with the server), so a
  thousand watches hold one Redis connection, not a thousand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from queue_system import streams
from queue_system.stream_hub import StreamHub
from queue_system.streams import Follow

S = TypeVar("S")  # the snapshot
T = TypeVar("T")  # one followed item
R = TypeVar("R")  # the RPC's response message


async def watch(
    hub: StreamHub,
    follow: Follow[T],
    resume_token: str,
    *,
    snapshot: Callable[[], Awaitable[S]],
    first: Callable[[str, S], R],
    then: Callable[[str, T], R],
) -> AsyncIterator[R]:
    """The response stream: `first(token, snapshot)`, then `then(token, item)` for every item
    (shared by watches of the same stream with the same `then`: it must not change what it makes)."""
    positions = await streams.start(hub.client, follow, resume_token)
    yield first(streams.token_of(positions), await snapshot())
    async for message in hub.messages(follow, positions, then):
        yield message
