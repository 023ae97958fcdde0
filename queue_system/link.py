"""A pipelined Redis connection for the hot paths (a producer's single adds, a worker's reads,
fetches and acks): one socket, replies read by hiredis as they arrive, no pool.

Why: a single add through redis-py's asyncio client costs the caller ~110 µs of CPU
(pool checkout and release, retry wrapper, timeouts, observability hooks, a stream
reader) around a round trip Redis serves in ~40 µs; the same command written to a
transport whose protocol feeds a hiredis reader costs ~50 µs. In trading_svc that is
about a third of the CPU of an EnqueueJob RPC.

What it keeps of redis-py: the connection is opened by the client's own connection
class (TCP, TLS or Unix socket as the URL says, AUTH and SELECT, the same timeouts
and keep-alive), then its transport is handed to this module's protocol. Errors are
redis-py's: an error reply is parsed by its parser (NOSCRIPT is NoScriptError...),
and a lost connection fails every command in flight with its ConnectionError, which
`outages.ride_out` waits out; the next command connects again. A command is never
sent twice here: the caller decides (an add carries a receipt, so sending it again
is safe).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from typing import Any, Final

import hiredis
import redis.asyncio as aioredis
from redis._parsers.base import BaseParser
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse

from queue_system.connection import dedicated, pack_command

# What hiredis answers while a reply is still incomplete (a reply itself can be False in RESP3).
_INCOMPLETE: Final = object()


class _Replies(asyncio.Protocol):
    """The transport's protocol: each complete reply answers the oldest command waiting."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        # the stream writer redis-py dialed with stays referenced: collected, it would close the transport
        self.writer = writer
        self.transport = writer.transport
        self.reader = hiredis.Reader(
            protocolError=InvalidResponse, replyError=BaseParser.parse_error, notEnoughData=_INCOMPLETE
        )
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.lost: Exception | None = None

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not _INCOMPLETE:
            answer = self.waiting.popleft()
            if not answer.done():  # its caller may have given up (cancelled)
                answer.set_result(reply)

    def eof_received(self) -> bool:
        return False  # Redis closed its side: close ours (connection_lost follows)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = RedisConnectionError(f"Connection to Redis lost: {exc or 'closed by the server'}")
        while self.waiting:
            answer = self.waiting.popleft()
            if not answer.done():
                answer.set_exception(self.lost)
                answer.exception()  # one its caller no longer awaits (it gave up) is not logged

    def send(self, packed: list[bytes], count: int) -> list[asyncio.Future[Any]]:
        if self.lost is not None:
            raise self.lost
        loop = asyncio.get_running_loop()
        answers = [loop.create_future() for _ in range(count)]
        self.waiting.extend(answers)
        self.transport.writelines(packed)
        return answers


async def reply(answer: asyncio.Future[Any]) -> Any:
    """The reply a `RedisLink.send` future answers; an error reply is raised."""
    got = await answer
    if isinstance(got, Exception):
        raise got
    return got


class RedisLink:
    """Commands to `client`'s Redis over one pipelined connection of its own (opened when first
    needed, again after it is lost). Many callers may have commands in flight at once."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._replies: _Replies | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Lock | None = None

    async def call(self, *args: Any) -> Any:
        """One command's reply; an error reply is raised as redis-py raises it."""
        (answer,) = await self.send([args])
        return await reply(answer)

    async def send(self, commands: Sequence[Sequence[Any]]) -> list[asyncio.Future[Any]]:
        """Write `commands` back to back, at once; one future per command answers its reply
        (read it with `reply`). A future nobody awaits is harmless: its reply is dropped."""
        replies = self._replies
        if replies is None or replies.lost is not None or self._loop is not asyncio.get_running_loop():
            replies = await self._open()
        packed = [part for command in commands for part in pack_command(*command)]
        return replies.send(packed, len(commands))

    async def _open(self) -> _Replies:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): nothing of the old one is usable
            self._loop, self._opening, self._replies = loop, asyncio.Lock(), None
        assert self._opening is not None
        async with self._opening:
            if self._replies is not None and self._replies.lost is None:
                return self._replies  # another caller opened it meanwhile
            self._close()
            conn = dedicated(self.client)
            # the client's own dialing (TLS, AUTH, SELECT, keep-alive), tried once: callers ride out
            await conn.connect()  # type: ignore[no-untyped-call]
            writer = conn._writer  # the handshake is done: take its transport over
            if writer is None:
                raise RedisConnectionError("Redis connection closed during its handshake")
            replies = _Replies(writer)
            writer.transport.set_protocol(replies)
            conn._writer = conn._reader = None  # ours now: redis-py must not close it
            self._replies = replies
            return replies

    def _close(self) -> None:
        if self._replies is not None:
            self._replies.transport.close()
            self._replies = None

    async def aclose(self) -> None:
        """Close the connection (commands in flight fail with ConnectionError)."""
        self._close()
