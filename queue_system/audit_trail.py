"""Reading the audit trail back: a page of the audit stream, newest first, filtered.

The service kit's auth interceptor writes one entry per call of a state-changing
RPC to `keys.audit_stream` (fields in `keys.AuditField`); AuditService's
ListAuditEntries reads them here. This module knows Redis and the stream's
layout, not gRPC, so the runtime's layers stay as they are (queue_system imports
no grpc) and a CLI or test can read the trail without a server.

The stream is walked newest first with XREVRANGE between the time bounds (entry
ids are the ms the call ended, so a time filter is a range of ids and costs
nothing); the other filters (caller, method, code) are applied here, to each
entry read. A page therefore reads at most SCAN_MAX entries: a filter that
matches little on a long trail answers a short page (even an empty one) and a
token to go on from where the reading stopped, instead of walking 100,000
entries in one call. The page token is the id to continue before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, cast

import redis.asyncio as aioredis

from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.keys import AuditField, audit_stream
from queue_system.tokens import decode_token, encode_token, not_our_token

# Entries one call reads at most, whatever its filters (about 30 ms of XREVRANGE at ~300 bytes each).
SCAN_MAX: Final = 10_000
# Entries asked of Redis per round trip when a filter may skip some.
SCAN_BATCH: Final = 500

_ID: Final = re.compile(r"^(\d{1,20})-(\d{1,20})$")
# Each part of a stream id (ms, sequence) is an unsigned 64-bit integer: Redis refuses anything else.
ID_PART_MAX: Final = 2**64 - 1
_BEFORE: Final = "before"

StreamId = tuple[int, int]
Entries = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """Which entries a page holds; an empty string or None means any.

    `method` matches the full method name or any suffix of it; `since_ms` is
    inclusive and `until_ms` exclusive (ms epoch of when the call ended).
    """

    caller: str = ""
    method: str = ""
    code: str = ""
    since_ms: int | None = None
    until_ms: int | None = None

    @property
    def by_field(self) -> bool:
        """Whether a filter other than time is set (so entries read may be skipped)."""
        return bool(self.caller or self.method or self.code)

    def matches(self, fields: Mapping[str, str]) -> bool:
        return (
            (not self.caller or fields.get(AuditField.CALLER, "") == self.caller)
            and (not self.method or fields.get(AuditField.METHOD, "").endswith(self.method))
            and (not self.code or fields.get(AuditField.CODE, "") == self.code)
        )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited call as the stream holds it (see keys.AuditField)."""

    entry_id: str
    time_ms: int
    caller: str
    method: str
    request_id: str
    code: str
    request: str
    service: str
    peer: str
    duration_ms: int


def _parse_id(text: str) -> StreamId | None:
    """The (ms, sequence) of a stream id Redis would take, else None."""
    match = _ID.match(text)
    if match is None:
        return None
    ms, seq = int(match[1]), int(match[2])
    return (ms, seq) if ms <= ID_PART_MAX and seq <= ID_PART_MAX else None


def time_violations(since_ms: int | None, until_ms: int | None) -> list[FieldViolation]:
    """What is wrong with the time bounds, each naming its request field (`since`, `until`):
    an entry's id is the ms epoch it was written at (0 to ID_PART_MAX), so a bound outside
    that, such as one before 1970, bounds no id Redis would take."""
    return [
        FieldViolation(field, f"must be from 1970-01-01T00:00:00Z on (0 to {ID_PART_MAX} ms), got {ms} ms")
        for field, ms in (("since", since_ms), ("until", until_ms))
        if ms is not None and not 0 <= ms <= ID_PART_MAX
    ]


def _record(entry_id: str, fields: Mapping[str, str]) -> AuditRecord:
    duration = fields.get(AuditField.DURATION_MS, "")
    return AuditRecord(
        entry_id=entry_id,
        time_ms=int(entry_id.partition("-")[0]),
        caller=fields.get(AuditField.CALLER, ""),
        method=fields.get(AuditField.METHOD, ""),
        request_id=fields.get(AuditField.REQUEST_ID, ""),
        code=fields.get(AuditField.CODE, ""),
        request=fields.get(AuditField.REQUEST, ""),
        service=fields.get(AuditField.SERVICE, ""),
        peer=fields.get(AuditField.PEER, ""),
        duration_ms=int(duration) if duration.isdigit() else 0,
    )


def page_token_id(page_token: str) -> StreamId | None:
    """The stream id a page token says to continue before (None for ""); InvalidArgumentError
    on `page_token` for anything this module did not issue."""
    data = decode_token(page_token, "page_token")
    if not data:
        return None
    before = data.get(_BEFORE)
    parsed = _parse_id(before) if isinstance(before, str) else None
    if parsed is None:
        raise not_our_token("page_token")
    return parsed


def _token(entry_id: str) -> str:
    return encode_token({_BEFORE: entry_id})


async def read_audit(
    client: aioredis.Redis, prefix: str, filters: AuditFilters, page_size: int, page_token: str = ""
) -> tuple[list[AuditRecord], str]:
    """Up to `page_size` (>= 1) entries passing `filters`, newest first, and the next page's token
    ("" when nothing older passes them, as far as SCAN_MAX entries read could tell).
    InvalidArgumentError naming `since`, `until` (see time_violations) or `page_token`."""
    bad = time_violations(filters.since_ms, filters.until_ms)
    if bad:
        raise InvalidArgumentError(bad)
    upper: StreamId | None = (filters.until_ms, 0) if filters.until_ms is not None else None
    before = page_token_id(page_token)
    if before is not None and (upper is None or before < upper):
        upper = before
    if upper == (0, 0):  # nothing is before the first possible id ("(0-0" is no valid bound)
        return [], ""
    high = f"({upper[0]}-{upper[1]}" if upper is not None else "+"
    low = f"{filters.since_ms}-0" if filters.since_ms is not None else "-"
    stream = audit_stream(prefix)
    page: list[AuditRecord] = []
    scanned = 0
    while True:
        # Without field filters every entry read is kept: one more than the page says whether
        # there is a next one. With them, read in batches until the page is full and one more
        # entry passes (then there is a next page for sure), the stream ends, or SCAN_MAX is read.
        count = min(SCAN_BATCH if filters.by_field else page_size + 1, SCAN_MAX - scanned)
        entries = cast(Entries, await client.xrevrange(stream, high, low, count=count))
        for raw_id, raw in entries:
            scanned += 1
            fields = {k.decode(): v.decode(errors="replace") for k, v in raw.items()}
            if not filters.matches(fields):
                continue
            if len(page) == page_size:
                return page, _token(page[-1].entry_id)
            page.append(_record(raw_id.decode(), fields))
        if len(entries) < count:
            return page, ""
        last = entries[-1][0].decode()
        if scanned >= SCAN_MAX:
            return page, _token(last)  # what lies between the page's last entry and `last` does not pass
        high = f"({last}"
