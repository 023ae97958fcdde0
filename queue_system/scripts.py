"""The Lua scripts of a queue, loaded once per client.

Every script is three parts: the constants of `keys.py` rendered as Lua (key
order, field names, lanes, groups, caps), the shared functions of
`lua/common.lua`, then the operation's own file. Together they are the only
code that changes a queue's keys, so every state change is atomic. redis-py
reloads a script by itself when a restarted Redis forgot it.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from queue_system import keys

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
    "redrive",
    "redrive_dead_letter",
    "janitor",
    "sweep_grouped",
)


def _lua(value: str | int) -> str:
    """A Lua literal of a constant (the catalog holds plain names and numbers)."""
    if isinstance(value, int):
        return str(value)
    if any(c in value for c in "'\\\n"):
        raise ValueError(f"constant {value!r} needs escaping; keep catalog names plain")
    return f"'{value}'"


def _table(names: type) -> str:
    """`{envelope = 'envelope', ...}` from a class of constants (JobField, ...)."""
    pairs = [f"{n.lower()} = {_lua(v)}" for n, v in vars(names).items() if n.isupper()]
    return "{" + ", ".join(pairs) + "}"


@cache
def constants() -> str:
    """keys.py as the first part of every script."""
    head = len(keys.SCRIPT_HEAD)
    lines = [
        "-- Rendered from queue_system/keys.py by queue_system/scripts.py: the one contract",
        "-- between Python and Lua. Change keys.py, not this text.",
        "local KEY = {" + ", ".join(f"{n} = KEYS[{i}]" for i, n in enumerate(keys.SCRIPT_KEYS, 1)) + "}",
        "local LANE_KEYS = {" + ", ".join(f"KEYS[{i}]" for i in range(1, len(keys.LANES) + 1)) + "}",
        f"local {', '.join(n.upper() for n in keys.SCRIPT_HEAD)} = "
        + ", ".join(f"ARGV[{i}]" for i in range(1, head + 1)),
        "-- The operation's own arguments.",
        f"local ARG = {{}} for i = {head + 1}, #ARGV do ARG[i - {head}] = ARGV[i] end",
        f"local F = {_table(keys.JobField)}",
        f"local E = {_table(keys.EntryField)}",
        f"local STAT = {_table(keys.StatsField)}",
        f"local LANES, NORMAL_LANE = {len(keys.LANES)}, {keys.NORMAL_LANE}",
        "local READY_STATE = {" + ", ".join(_lua(s) for s in keys.READY_STATE) + "}",
        f"local WORKER_GROUP, DEAD_LETTER_GROUP = {_lua(keys.WORKER_GROUP)}, {_lua(keys.DEAD_LETTER_GROUP)}",
        f"local EVENTS_MAXLEN = {keys.EVENTS_MAXLEN}",
        f"local GROUP_LANE_SPAN, GROUP_DELAYED_SCORE = {keys.GROUP_LANE_SPAN}, {keys.GROUP_DELAYED_SCORE}",
        f"local SUPERSEDED_KEEP, SUPERSEDED_AGE_MS = {keys.SUPERSEDED_KEEP}, {keys.SUPERSEDED_AGE_MS}",
    ]
    return "\n".join(lines) + "\n"


@cache
def source(name: str) -> str:
    """Full source of one script: constants, the shared functions, then the operation."""
    lua = files("queue_system") / "lua"
    return constants() + (lua / "common.lua").read_text() + "\n" + (lua / f"{name}.lua").read_text()


class QueueScripts:
    """Every queue script registered on one client (shared by all queues)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self.by_name: dict[str, AsyncScript] = {n: client.register_script(source(n)) for n in NAMES}

    def __getitem__(self, name: str) -> AsyncScript:
        return self.by_name[name]
