"""Redis clients that ride out a Redis restart by themselves.

Every command is tried again with capped exponential backoff on connection
and timeout errors, so a producer or worker keeps going when Redis comes back
(`outages.ride_out` bounds how long a caller waits in all). A caller that
finds every connection busy waits for one instead of failing at once: under
a burst of adds during an outage, connections stay busy while their commands
wait for Redis, and failing the calls behind them would turn an outage of two
seconds into lost adds. Trying a command again is safe for every jobmesh
script: adds carry a receipt and job ids, and every finish checks that the
caller still holds the job.

Commands are packed by hiredis (C) instead of redis-py's asyncio connection,
which packs in Python, argument by argument: an enqueue script call of 31
arguments took ~30 µs of the caller's CPU to pack, ~3 µs with hiredis (the
bytes on the wire are the same; the sync client of redis-py packs with hiredis
too). What redis-py refuses (None, bools) is refused as before (DataError).
"""

from __future__ import annotations

from typing import Any, Final

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

# Tries per command before the error reaches the caller (about 5 s of backoff).
COMMAND_RETRIES: Final = 12
# Connections one client opens at most; further callers wait for a free one.
MAX_CONNECTIONS: Final = 100
# How long a caller waits for a free connection before its call fails (and,
# in an add, `ride_out` decides whether to wait more).
CONNECTION_WAIT_S: Final = 20.0


def connect(url: str, *, max_connections: int = MAX_CONNECTIONS) -> aioredis.Redis:
    """An asyncio client for `url` with reconnecting tries, keep-alive checks and waiting for connections."""
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=CONNECTION_WAIT_S,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.02), COMMAND_RETRIES),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=2.0,
        socket_keepalive=True,
        health_check_interval=15,
    )
    pool.connection_class = hiredis_packing(pool.connection_class)
    return aioredis.Redis.from_pool(pool)


def pack_command(*args: Any) -> list[bytes]:
    """The RESP bytes of one command, packed by hiredis (redis-py's own rules for the first
    argument: "CONFIG GET" is two words; an argument of a type Redis takes not is a DataError)."""
    if isinstance(args[0], str):
        args = (*args[0].encode().split(), *args[1:])
    elif b" " in args[0]:
        args = (*args[0].split(), *args[1:])
    if bool in map(type, args):  # hiredis would send True as 1; redis-py refuses it (bool has no subclasses)
        raise DataError("Invalid input of type: 'bool'. Convert to a bytes, string, int or float first.")
    try:
        return [hiredis.pack_command(args)]
    except TypeError as exc:
        raise DataError(str(exc)) from exc


_HIREDIS_PACKING: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def hiredis_packing(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """`connection_class` (plain, TLS or Unix socket, as the URL chose) packing with hiredis."""
    if connection_class.pack_command is _pack_method:
        return connection_class
    packing = _HIREDIS_PACKING.get(connection_class)
    if packing is None:
        name = f"Hiredis{connection_class.__name__}"
        packing = type(name, (connection_class,), {"pack_command": _pack_method})
        _HIREDIS_PACKING[connection_class] = packing
    return packing


def _pack_method(self: AbstractConnection, *args: Any) -> list[bytes]:
    return pack_command(*args)



def dedicated(client: aioredis.Redis) -> AbstractConnection:
    """A connection of its own to `client`'s Redis, drawn from no pool (it connects when first used).

    For a loop that holds its connection in a blocking read for good (the stream hub):
    from the shared pool it would take a connection every other caller may be waiting
    for. Its commands are not tried again by redis-py: the loop rides out an outage
    itself (outages.Outage), knowing what it was reading.
    """
    pool = client.connection_pool
    kwargs = {k: v for k, v in pool.connection_kwargs.items() if k not in ("retry", "retry_on_error")}
    connection: AbstractConnection = pool.connection_class(retry=Retry(NoBackoff(), 0), **kwargs)
    return connection
