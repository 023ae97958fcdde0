"""Reading the audit stream back (queue_system.audit_trail) on the shared Redis.

Entries are written with XADD at chosen ids, as the auth interceptor writes
them, so times and order are the test's: newest first, every filter, the time
bounds, paging to the end without a gap or a repeat, and the bounded scan.
"""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

from queue_system import audit_trail
from queue_system.audit_trail import AuditFilters, read_audit
from queue_system.errors import InvalidArgumentError
from queue_system.keys import AuditField, audit_stream
from queue_system.tokens import encode_token

DRAIN = "/jobmesh.queue.v1.QueueService/DrainQueue"
DEPLOY = "/jobmesh.trading.v1.TradingService/DeployStrategy"


async def _write(client: aioredis.Redis, prefix: str, ms: int, *, caller: str, method: str, code: str) -> str:
    fields = {
        AuditField.CALLER: caller,
        AuditField.METHOD: method,
        AuditField.REQUEST_ID: f"r-{ms}",
        AuditField.CODE: code,
        AuditField.REQUEST: json.dumps({"requestId": f"r-{ms}"}, separators=(",", ":")),
        AuditField.SERVICE: "trading-svc",
        AuditField.PEER: "ipv4:127.0.0.1:5000",
        AuditField.DURATION_MS: "7",
    }
    entry_id = f"{ms}-0"
    await client.xadd(audit_stream(prefix), fields, id=entry_id)  # type: ignore[arg-type]
    return entry_id


@pytest.fixture
async def trail(redis_client: aioredis.Redis, queue_prefix: str) -> list[str]:
    """Ten entries at ms 1000..1009: alice drains (OK) at even ms, bob deploys (PERMISSION_DENIED)
    at odd ms; their ids, oldest first."""
    ids = []
    for i in range(10):
        caller, method, code = ("alice", DRAIN, "OK") if i % 2 == 0 else ("bob", DEPLOY, "PERMISSION_DENIED")
        entry_id = await _write(redis_client, queue_prefix, 1000 + i, caller=caller, method=method, code=code)
        ids.append(entry_id)
    return ids


async def _all_pages(
    client: aioredis.Redis, prefix: str, filters: AuditFilters, size: int
) -> tuple[list[str], int]:
    """Every entry id over every page, and how many pages it took."""
    ids: list[str] = []
    token, pages = "", 0
    while True:
        page, token = await read_audit(client, prefix, filters, size, token)
        pages += 1
        ids.extend(r.entry_id for r in page)
        if not token:
            return ids, pages


async def test_a_page_is_newest_first_with_every_recorded_field(
    redis_client: aioredis.Redis, queue_prefix: str, trail: list[str]
) -> None:
    page, token = await read_audit(redis_client, queue_prefix, AuditFilters(), 3)
    assert [r.entry_id for r in page] == trail[::-1][:3]
    newest = page[0]
    assert (newest.caller, newest.method, newest.code) == ("bob", DEPLOY, "PERMISSION_DENIED")
    assert newest.request_id == "r-1009"
    assert (newest.time_ms, newest.duration_ms, newest.service) == (1009, 7, "trading-svc")
    assert newest.request == '{"requestId":"r-1009"}' and newest.peer == "ipv4:127.0.0.1:5000"
    assert token


async def test_pages_cover_the_trail_without_gap_or_repeat_and_the_last_says_so(
    redis_client: aioredis.Redis, queue_prefix: str, trail: list[str]
) -> None:
    ids, pages = await _all_pages(redis_client, queue_prefix, AuditFilters(), 3)
    assert ids == trail[::-1] and pages == 4
    ids, pages = await _all_pages(redis_client, queue_prefix, AuditFilters(), 5)
    assert ids == trail[::-1] and pages == 2  # exactly full last page: no empty page after it
    ids, pages = await _all_pages(redis_client, queue_prefix, AuditFilters(caller="alice"), 5)
    assert ids == trail[-2::-2] and pages == 1


async def test_filters_by_caller_method_suffix_and_code(
    redis_client: aioredis.Redis, queue_prefix: str, trail: list[str]
) -> None:
    async def ids(filters: AuditFilters) -> list[str]:
        return (await _all_pages(redis_client, queue_prefix, filters, 2))[0]

    alice = trail[-2::-2]
    bob = trail[::-2]
    assert await ids(AuditFilters(caller="alice")) == alice
    assert await ids(AuditFilters(method=DRAIN)) == alice
    assert await ids(AuditFilters(method="DrainQueue")) == alice
    assert await ids(AuditFilters(method="TradingService/DeployStrategy")) == bob
    assert await ids(AuditFilters(code="PERMISSION_DENIED")) == bob
    assert await ids(AuditFilters(caller="alice", code="PERMISSION_DENIED")) == []
    assert await ids(AuditFilters(caller="nobody")) == []


async def test_since_is_inclusive_and_until_exclusive(
    redis_client: aioredis.Redis, queue_prefix: str, trail: list[str]
) -> None:
    ids, _ = await _all_pages(redis_client, queue_prefix, AuditFilters(since_ms=1003, until_ms=1007), 2)
    assert ids == ["1006-0", "1005-0", "1004-0", "1003-0"]
    ids, _ = await _all_pages(redis_client, queue_prefix, AuditFilters(since_ms=1008), 50)
    assert ids == ["1009-0", "1008-0"]
    ids, _ = await _all_pages(redis_client, queue_prefix, AuditFilters(until_ms=1002, caller="alice"), 50)
    assert ids == ["1000-0"]
    for filters in (AuditFilters(until_ms=0), AuditFilters(since_ms=1005, until_ms=1005)):
        assert await read_audit(redis_client, queue_prefix, filters, 50) == ([], "")


async def test_an_empty_or_missing_stream_reads_as_no_entries(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    assert await read_audit(redis_client, queue_prefix, AuditFilters(), 50) == ([], "")
    assert await read_audit(redis_client, queue_prefix, AuditFilters(code="OK"), 50) == ([], "")


async def test_a_page_token_not_issued_here_is_a_bad_page_token(
    redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    for token in ("not base64 json!", encode_token({"after": "1-0"}), encode_token({"before": "x-1"})):
        with pytest.raises(InvalidArgumentError) as caught:
            await read_audit(redis_client, queue_prefix, AuditFilters(), 50, token)
        assert [v.field for v in caught.value.violations] == ["page_token"]


async def test_a_time_bound_outside_what_a_stream_id_holds_names_its_field(
    redis_client: aioredis.Redis, queue_prefix: str, trail: list[str]
) -> None:
    """Before 1970 (or past 2**64-1 ms) no entry id is: refused by field, not sent to Redis
    (which answers "Invalid stream ID" for "(-5-0")."""
    cases = [
        (AuditFilters(until_ms=-5), ["until"]),
        (AuditFilters(since_ms=-5), ["since"]),
        (AuditFilters(since_ms=-10, until_ms=-5, caller="alice"), ["since", "until"]),
        (AuditFilters(since_ms=2**64), ["since"]),
        (AuditFilters(until_ms=2**64), ["until"]),
    ]
    for filters, fields in cases:
        with pytest.raises(InvalidArgumentError) as caught:
            await read_audit(redis_client, queue_prefix, filters, 50)
        assert [v.field for v in caught.value.violations] == fields, filters
    # the ends of the range are bounds Redis takes
    edges = AuditFilters(since_ms=0, until_ms=audit_trail.ID_PART_MAX)
    assert (await _all_pages(redis_client, queue_prefix, edges, 50))[0] == trail[::-1]


async def test_a_page_token_with_an_id_past_64_bits_is_a_bad_page_token(
    redis_client: aioredis.Redis, queue_prefix: str, trail: list[str]
) -> None:
    """Twenty digits fit the id's pattern but not Redis's unsigned 64-bit parts."""
    for before in ("99999999999999999999-0", f"{2**64}-0", f"1005-{2**64}"):
        with pytest.raises(InvalidArgumentError) as caught:
            await read_audit(redis_client, queue_prefix, AuditFilters(), 50, encode_token({"before": before}))
        assert [v.field for v in caught.value.violations] == ["page_token"], before
    top = encode_token({"before": f"{2**64 - 1}-{2**64 - 1}"})
    page, _ = await read_audit(redis_client, queue_prefix, AuditFilters(), 50, top)
    assert [r.entry_id for r in page] == trail[::-1]


async def test_a_rare_match_on_a_long_trail_answers_a_short_page_and_goes_on_from_where_it_stopped(
    redis_client: aioredis.Redis, queue_prefix: str, trail: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_trail, "SCAN_MAX", 4)
    monkeypatch.setattr(audit_trail, "SCAN_BATCH", 3)
    # bob's entries (1009, 1007, ...) within 4 read per call: 1009, 1007 | 1005, 1003 | 1001
    pages = []
    token = ""
    while True:
        page, token = await read_audit(redis_client, queue_prefix, AuditFilters(caller="bob"), 50, token)
        pages.append([r.entry_id for r in page])
        if not token:
            break
    assert pages == [["1009-0", "1007-0"], ["1005-0", "1003-0"], ["1001-0"]]
