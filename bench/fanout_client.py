"""The watch fan-out's client side split over processes: what 1,000 real watchers look like.

    python -m bench.fanout_client SPEC.json   {"address", "ids", "channels", "rounds", "loop", "out"}

Why: one Python process reading 10,000 messages a second over 1,000 streams
spends most of a core in grpc.aio's per-message path alone, so on a busy
machine the reader, not the server, is where the changes queue (and a
thousand watchers are a thousand clients, not one). `--client-procs N` runs
N of these, each reading its share of the streams with the same `Fanout`
(stream i of the plan in process i % N), and the bench merges what they saw.

It opens its streams and says {"opened_s"} once every snapshot is in; then
it reads until the bench writes a line on its stdin (the source is done),
drains as `Fanout.drain` does, writes what each stream saw to `out` and says
{"cpu_s"} (CPU from the first change on). The bench ends it with SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.changes_child import run_child, say
from bench.fanout import Fanout, Seen

DRAIN_S = 30.0


def dump(seen: list[Seen]) -> list[list[Any]]:
    """What each stream saw, as JSON lists (`load` reads them back)."""
    return [[s.snapshot_version, s.versions, s.at_ns, s.got_ns, s.error, s.tokens] for s in seen]


def load(raw: list[list[Any]]) -> list[Seen]:
    return [
        Seen(int(v), list(vs), list(at), list(got), str(err), list(tokens))
        for v, vs, at, got, err, tokens in raw
    ]


def _write(path: str, data: Any) -> None:
    Path(path).write_text(json.dumps(data))


async def client(spec: dict[str, Any]) -> None:
    fanout = Fanout(spec["address"], spec["ids"], int(spec["channels"]))
    try:
        opened_s = await fanout.open()
        fanout.expect(int(spec["rounds"]))
        cpu0 = time.process_time()
        say({"opened_s": opened_s})
        await asyncio.to_thread(sys.stdin.readline)  # the source is done (or the bench gave up)
        await fanout.drain(float(spec.get("drain_s", DRAIN_S)))
        cpu_s = time.process_time() - cpu0
        _write(spec["out"], dump(fanout.seen))
        say({"cpu_s": cpu_s})
        await asyncio.Event().wait()  # until SIGTERM: the streams stay open while the others drain
    finally:
        await fanout.close()


def main() -> None:
    run_child(client, json.loads(Path(sys.argv[1]).read_text()))


if __name__ == "__main__":
    main()
