"""The Lua scripts of a queue, loaded once per client.

Each script in `lua/` is prefixed with `lua/common.lua`; together they are the
only code that changes a queue's keys, so every state change is atomic.
redis-py reloads a script by itself when a restarted Redis forgot it.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

NAMES = (
    "enqueue",
    "fetch",
    "reclaim",
    "renew",
    "release",
    "complete",
    "retry",
    "deadletter",
    "promote",
    "progress",
    "counts",
    "control",
    "cancel",
    "sweep",
    "prune",
    "requeue",
    "janitor",
)


@cache
def source(name: str) -> str:
    """Full source of one script: the common prelude, then the operation."""
    lua = files("queue_system") / "lua"
    return (lua / "common.lua").read_text() + "\n" + (lua / f"{name}.lua").read_text()


class QueueScripts:
    """Every queue script registered on one client (shared by all queues)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self.by_name: dict[str, AsyncScript] = {n: client.register_script(source(n)) for n in NAMES}

    def __getitem__(self, name: str) -> AsyncScript:
        return self.by_name[name]
