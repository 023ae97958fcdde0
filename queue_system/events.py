"""Job lifecycle events, read back from the queues' capped event streams.

The queue scripts write each event twice (lua/common.lua `emit`): as proto3
JSON of `jobmesh.events.v1.Event` on the seed channel, and as an entry of the
queue's capped event stream. Watchers follow the streams (`streams.Follow`),
so a reconnect with a resume token misses nothing the streams still hold.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from typing import Final

from google.protobuf import json_format
from google.protobuf.any_pb2 import Any as AnyMsg
from google.protobuf.message import Message

from jobmesh.events.v1 import event_pb2, job_events_pb2
from queue_system.failure import timestamp_ms
from queue_system.keys import EntryField
from queue_system.queue import RedisQueue
from queue_system.streams import Follow

log = logging.getLogger(__name__)

# The type of each event's data, by event name (the stream entries leave it out).
DATA_TYPE: Final = {
    "job_dead_lettered": job_events_pb2.JobDeadLettered,
    **{
        name: job_events_pb2.QueueControl
        for name in ("queue_paused", "queue_resumed", "queue_drained", "queue_cleaned")
    },
}


_SERVICE: Final = EntryField.EVENT_SERVICE.encode()
_NAME: Final = EntryField.EVENT_NAME.encode()
_DATA: Final = EntryField.EVENT_DATA.encode()


def event_from_entry(entry_id: bytes, fields: Mapping[bytes, bytes]) -> event_pb2.Event:
    """An Event from one event-stream entry (fields in EntryField); its time from the entry id.

    Fields the contract does not know (written by a newer version) are skipped,
    so an older reader never fails on them.
    """
    name = fields[_NAME].decode()
    message = DATA_TYPE.get(name, job_events_pb2.JobLifecycle)()
    json_format.Parse(fields[_DATA].decode(), message, ignore_unknown_fields=True)
    data = AnyMsg()
    data.Pack(message)
    ts = timestamp_ms(int(entry_id.split(b"-", 1)[0]))
    return event_pb2.Event(service=fields[_SERVICE].decode(), event=name, data=data, timestamp=ts)


def queue_events(queues: Sequence[RedisQueue], names: Collection[str] = ()) -> Follow[event_pb2.Event]:
    """Follow the event streams of `queues` (resume tokens name them by queue), only the
    events in `names` when it is not empty."""

    def parse(queue: str, entry_id: bytes, fields: Mapping[bytes, bytes]) -> event_pb2.Event | None:
        if names and fields.get(_NAME, b"").decode() not in names:
            return None
        try:
            return event_from_entry(entry_id, fields)
        except (KeyError, ValueError, json_format.ParseError) as exc:
            # one bad entry must never end a watch (nor every resume after it)
            log.warning("skipping event %s of %s that does not parse: %s", entry_id, queue, exc)
            return None

    return Follow({q.name: q.keys.events for q in queues}, parse)


def event_json(service: str, name: str, data: Message, *, with_zeros: bool = False) -> str:
    """One event in the seed's shape (`jobmesh.events.v1.Event` as proto3 JSON), for the pub/sub channels.

    `with_zeros` prints fields at their zero value too (proto3 JSON leaves them out), for events
    whose counts a subscriber reads as such: a sync that found nothing new says `newTransactions: 0`.
    """
    packed = AnyMsg()
    packed.Pack(data)
    event = event_pb2.Event(service=service, event=name, data=packed)
    event.timestamp.GetCurrentTime()
    return json_format.MessageToJson(event, indent=None, always_print_fields_with_no_presence=with_zeros)
