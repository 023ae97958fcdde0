"""Commands are packed by hiredis: the same bytes redis-py would send, the same refusals, on every
connection class a URL can choose."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError

from queue_system.connection import connect, hiredis_packing, pack_command

COMMANDS = [
    ("SET", "k", 0.1),
    ("ZADD", "z", 1e20, "m", -5, b"n"),
    ("SET", "k", "h\u00e9llo"),
    ("SET", b"k", memoryview(b"abc")),
    ("CONFIG GET", "maxmemory"),
    (b"CLIENT SETNAME", "x"),
    ("EVALSHA", "a" * 40, 2, "{q}:a", "{q}:b", b"\x00\x01blob", 300000),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_the_bytes_are_redis_pys(command: tuple[object, ...]) -> None:
    mine = b"".join(pack_command(*command))
    theirs = b"".join(bytes(part) for part in Connection().pack_command(*command))
    assert mine == theirs


@pytest.mark.parametrize("bad", [True, None, object()])
def test_what_redis_py_refuses_is_refused(bad: object) -> None:
    with pytest.raises(DataError):
        pack_command("SET", "k", bad)


def test_every_connection_class_keeps_its_kind() -> None:
    for cls in (Connection, SSLConnection, UnixDomainSocketConnection):
        packing = hiredis_packing(cls)
        assert issubclass(packing, cls)
        assert hiredis_packing(packing) is packing
        assert hiredis_packing(cls) is packing


async def test_a_client_talks_through_it(redis_url: str, queue_prefix: str) -> None:
    client: aioredis.Redis = connect(redis_url)
    try:
        key = f"{queue_prefix}:pack"
        await client.set(key, "h\u00e9llo", ex=60)
        assert await client.get(key) == "h\u00e9llo".encode()
        assert await client.eval("return ARGV[1] .. ARGV[2]", 0, "a", 2) == b"a2"
        await client.delete(key)
    finally:
        await client.aclose()
