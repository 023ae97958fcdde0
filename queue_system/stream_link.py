"""The stream hub's own connection: one XREAD over many streams, without encoding them all each time.

Why not the redis-py client: the hub reads the union of every followed
stream, a hundred keys and more, as often as changes come (a thousand times
a second at 1,000 watches of 100 strategies), and redis-py encodes every
argument of every command again: about half a millisecond for an XREAD of a
hundred streams, which made the encoding the hub's largest cost. Here each
stream's key and position are encoded once (`Part`, again only when the
position moves) and the command is sent as those ready pieces.

The connection is the hub's alone (`connection.dedicated`): redis-py drops it
on any error or cancellation mid-command, and it reconnects on the next one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from queue_system.connection import dedicated
from queue_system.streams import Entries


def bulk(value: str) -> bytes:
    """`value` as one RESP bulk string."""
    raw = value.encode()
    return b"$%d\r\n%s\r\n" % (len(raw), raw)


class StreamLink:
    """XREAD, CLIENT ID and XRANGE checks on a connection of the hub's own."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._conn = dedicated(client)

    async def _call(self, *args: Any) -> Any:
        await self._conn.send_packed_command(self._conn.pack_command(*args))
        return await self._conn.read_response()

    async def client_id(self) -> int:
        """This connection's client id (a new one after each reconnect), to unblock its read."""
        return int(await self._call("CLIENT", "ID"))

    async def xread(
        self, keys: Sequence[bytes], positions: Sequence[bytes], *, count: int, block_ms: int
    ) -> list[tuple[bytes, Entries]]:
        """XREAD COUNT `count` BLOCK `block_ms` over `keys` after `positions` (both `bulk` encoded)."""
        head = b"*%d\r\n$5\r\nXREAD\r\n%s%s%s%s$7\r\nSTREAMS\r\n" % (
            6 + 2 * len(keys), bulk("COUNT"), bulk(str(count)), bulk("BLOCK"), bulk(str(block_ms)),
        )  # fmt: skip
        await self._conn.send_packed_command(b"".join([head, *keys, *positions]))  # one write, not 200
        got = await self._conn.read_response()
        if not got:  # timed out, or unblocked
            return []
        if isinstance(got, dict):  # RESP3
            got = list(got.items())
        return [(key, [(entry_id, _fields(flat)) for entry_id, flat in batch]) for key, batch in got]

    async def present(self, checks: Sequence[tuple[str, str]]) -> list[bool]:
        """For each (stream, id): whether that entry is still in that stream (one round trip)."""
        commands = [("XRANGE", key, entry_id, entry_id, "COUNT", 1) for key, entry_id in checks]
        await self._conn.send_packed_command(self._conn.pack_commands(commands))
        try:
            return [bool(await self._conn.read_response()) for _ in commands]
        except ResponseError:  # the answers after it are still to come: start afresh
            await self._conn.disconnect()
            raise

    async def close(self) -> None:
        await self._conn.disconnect()


def _fields(flat: list[bytes] | None) -> dict[bytes, bytes]:
    """An entry's fields from RESP's flat [field, value, ...] (None: an entry deleted meanwhile)."""
    if not flat:
        return {}
    values = iter(flat)
    return dict(zip(values, values, strict=True))
