"""DeadLetterService over the wire (a real aio server on the test's Redis): the seed's
dead-letter-stats and dead-letter-review views, decisions, bad input, and WatchAlerts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from dlq_svc.alerts import PatternFeed
from dlq_svc.patterns import PatternDetector
from dlq_svc.servicers.dead_letter import DeadLetterServicer
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.dlq.v1 import dead_letter_pb2 as dpb
from jobmesh.dlq.v1 import dead_letter_service_pb2 as pb
from jobmesh.dlq.v1 import dead_letter_service_pb2_grpc as pb_grpc
from queue_system.catalog import CATEGORIZATION, STRATEGY_EXECUTION, SYSTEM_EVENTS_CHANNEL, TRANSACTION_SYNC
from queue_system.stream_hub import StreamHub
from service_kit.rich_errors import ErrorInterceptor
from tests.dlq_svc.conftest import WITHIN, Dlq
from tests.queue_system.conftest import wait_until

S = dpb


@pytest.fixture
async def stub(dlq: Dlq) -> AsyncIterator[pb_grpc.DeadLetterServiceStub]:
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    hub = StreamHub(dlq.decisions.manager.client)
    servicer = DeadLetterServicer(dlq.decisions, dlq.alerts, hub, 20)
    pb_grpc.add_DeadLetterServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield pb_grpc.DeadLetterServiceStub(channel)
    await channel.close()
    await server.stop(0)
    await hub.close()


async def refused(call: object) -> tuple[grpc.StatusCode, dict[str, str]]:
    """The code of a failed call, and its BadRequest's violations by field."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    err = caught.value
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    bad = error_details_pb2.BadRequest()
    for detail in status.details if status is not None else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            detail.Unpack(bad)
    return err.code(), {v.field: v.description for v in bad.field_violations}


async def test_stats_and_review_page_through_dead_letters_by_filter(
    dlq: Dlq, stub: pb_grpc.DeadLetterServiceStub
) -> None:
    await dlq.fail_with(CATEGORIZATION, ValueError("bad account"), jobs=5)
    await dlq.fail_with(
        STRATEGY_EXECUTION, PermissionError(13, "denied"), jobs=2, strategy_id="strategy_7_abc"
    )
    await dlq.captured(7)
    stats = (await stub.GetDeadLetterStats(pb.GetDeadLetterStatsRequest())).stats
    assert stats.total == 7 and dict(stats.by_queue) == {CATEGORIZATION: 5, STRATEGY_EXECUTION: 2}
    assert dict(stats.by_strategy) == {"strategy_7_abc": 2}
    seen: list[str] = []
    token = ""
    while True:
        page = await stub.ListDeadLetters(
            pb.ListDeadLettersRequest(queue=CATEGORIZATION, page_size=2, page_token=token)
        )
        assert len(page.dead_letters) <= 2
        seen += [d.dead_letter_id for d in page.dead_letters]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 5
    received = [
        (await stub.GetDeadLetter(pb.GetDeadLetterRequest(dead_letter_id=i))).dead_letter for i in seen
    ]
    times = [d.received_at.ToMilliseconds() for d in received]
    assert times == sorted(times, reverse=True)  # newest first
    risky = await stub.ListDeadLetters(pb.ListDeadLettersRequest(min_risk=cpb.RISK_LEVEL_HIGH))
    assert {d.failed_job.queue for d in risky.dead_letters} == {STRATEGY_EXECUTION}
    per_strategy = await stub.ListDeadLetters(pb.ListDeadLettersRequest(strategy_id="strategy_7_abc"))
    assert len(per_strategy.dead_letters) == 2
    held = await stub.ListDeadLetters(pb.ListDeadLettersRequest(status=S.DEAD_LETTER_STATUS_PENDING))
    assert {d.failed_job.queue for d in held.dead_letters} == {STRATEGY_EXECUTION}


async def test_bad_input_names_every_bad_field_and_unknown_ids_are_not_found(
    stub: pb_grpc.DeadLetterServiceStub,
) -> None:
    code, bad = await refused(
        stub.ListDeadLetters(pb.ListDeadLettersRequest(queue="nope", category=99, page_size=-1))  # type: ignore[arg-type]
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(bad) == {"queue", "category", "page_size"}
    code, bad = await refused(stub.GetDeadLetter(pb.GetDeadLetterRequest()))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and bad == {"dead_letter_id": "required"}
    code, bad = await refused(stub.GetDeadLetter(pb.GetDeadLetterRequest(dead_letter_id="no-slash")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(bad) == {"dead_letter_id"}
    code, _ = await refused(
        stub.GetDeadLetter(pb.GetDeadLetterRequest(dead_letter_id=f"{CATEGORIZATION}/1-0"))
    )
    assert code == grpc.StatusCode.NOT_FOUND
    code, bad = await refused(stub.DiscardDeadLetter(pb.DiscardDeadLetterRequest(dead_letter_id="q/1-0")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(bad) == {"reason"}
    negative = pb.RetryDeadLetterRequest(dead_letter_id="q/1-0")
    negative.delay.FromMilliseconds(-5)
    code, bad = await refused(stub.RetryDeadLetter(negative))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(bad) == {"delay"}
    code, bad = await refused(
        stub.RedriveDeadLetters(pb.RedriveDeadLettersRequest(queue="nope", limit=20_000, per_second=99_999))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(bad) == {"queue", "limit", "per_second"}
    code, bad = await refused(stub.WatchAlerts(pb.WatchAlertsRequest(min_severity=42)).read())  # type: ignore[arg-type]
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(bad) == {"min_severity"}


async def test_retry_discard_and_redrive_answer_a_repeated_request_with_the_first_answer(
    dlq: Dlq, stub: pb_grpc.DeadLetterServiceStub
) -> None:
    await dlq.fail_with(TRANSACTION_SYNC, PermissionError(13, "denied"), jobs=3)
    letters = await dlq.captured(3)
    for w in dlq.manager.workers:
        await w.stop(1)
    first, second, third = (d.dead_letter_id for d in letters)
    retry = pb.RetryDeadLetterRequest(request_id="r-1", dead_letter_id=first)
    once = await stub.RetryDeadLetter(retry)
    assert once.dead_letter.status == S.DEAD_LETTER_STATUS_RETRIED
    assert await stub.RetryDeadLetter(retry) == once  # not FAILED_PRECONDITION: the first answer
    code, _ = await refused(stub.RetryDeadLetter(pb.RetryDeadLetterRequest(dead_letter_id=first)))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    discard = pb.DiscardDeadLetterRequest(request_id="d-1", dead_letter_id=second, reason="synced by hand")
    dropped = await stub.DiscardDeadLetter(discard)
    assert dropped.dead_letter.decision_reason == "operator: synced by hand"
    assert await stub.DiscardDeadLetter(discard) == dropped
    redrive = pb.RedriveDeadLettersRequest(request_id="x-1", queue=TRANSACTION_SYNC)
    moved = await stub.RedriveDeadLetters(redrive)
    assert list(moved.dead_letter_ids) == [third] and moved.redriven == 1  # only PENDING ones move
    assert await stub.RedriveDeadLetters(redrive) == moved


async def test_fifty_identical_failures_reach_a_watcher_as_one_recurring_error_alert(
    dlq: Dlq, stub: pb_grpc.DeadLetterServiceStub
) -> None:
    manager = dlq.manager
    detector = PatternDetector(threshold=10, window_ms=60_000, cooldown_ms=60_000)
    feed = PatternFeed(
        manager.client,
        manager.settings.queue_prefix,
        list(manager.queues),
        "feed",
        detector=detector,
        alerts=dlq.alerts,
    )
    await feed.ensure_group()
    announced = manager.client.pubsub()
    await announced.subscribe(SYSTEM_EVENTS_CHANNEL)
    watch = stub.WatchAlerts(pb.WatchAlertsRequest())
    snapshot = await watch.read()
    assert isinstance(snapshot, pb.WatchAlertsResponse) and snapshot.WhichOneof("kind") == "snapshot"
    assert list(snapshot.snapshot.active_alerts) == []
    await dlq.fail_with(CATEGORIZATION, ConnectionResetError(104, "Connection reset by peer"), jobs=50)
    raised = []

    async def fifty_seen() -> bool:
        raised.extend(await feed.step(block_ms=50))
        stats = await manager.get_queue_stats(CATEGORIZATION)
        return stats.dead_lettered >= 50 and not await feed.step(block_ms=50)

    await wait_until(fifty_seen, within=WITHIN)
    recurring = [a for a in raised if a.pattern == cpb.PATTERN_TYPE_RECURRING_ERROR]
    assert len(recurring) == 1 and recurring[0].queue == CATEGORIZATION
    assert recurring[0].category == cpb.ERROR_CATEGORY_NETWORK and recurring[0].suggested_action
    # the burst itself (50 failures in seconds, against no baseline) is a spike, raised once
    assert [a.queue for a in raised if a.pattern == cpb.PATTERN_TYPE_SPIKE] == [CATEGORIZATION]
    # every alert is announced on system:events too, in the seed's event shape (the channel is
    # global: other tests' services on the same Redis announce theirs there too, so only this
    # test's alerts count)
    events = []
    ids = {a.alert_id for a in raised}
    async with asyncio.timeout(WITHIN):
        while len(events) < len(raised):
            message = await announced.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                event = json.loads(message["data"])
                if event.get("data", {}).get("alertId") in ids:
                    events.append(event)
    await announced.aclose()
    assert {(e["service"], e["event"]) for e in events} == {("dlq-svc", "pattern_alert")}
    assert sorted(e["data"]["alertId"] for e in events) == sorted(a.alert_id for a in raised)
    got = []
    async with asyncio.timeout(WITHIN):
        while len(got) < len(raised):
            r = await watch.read()
            assert isinstance(r, pb.WatchAlertsResponse) and r.WhichOneof("kind") == "alert"
            got.append(r)
    watch.cancel()
    assert [r.alert.alert_id for r in got] == [a.alert_id for a in raised]
    assert sum(r.alert.pattern == cpb.PATTERN_TYPE_RECURRING_ERROR for r in got) == 1
    # a new watcher finds it among the active alerts; one resumed after the first alert gets the rest, once
    fresh = stub.WatchAlerts(pb.WatchAlertsRequest())
    first = await fresh.read()
    assert isinstance(first, pb.WatchAlertsResponse)
    assert recurring[0].alert_id in {a.alert_id for a in first.snapshot.active_alerts}
    fresh.cancel()
    resumed = stub.WatchAlerts(pb.WatchAlertsRequest(resume_token=got[0].resume_token))
    assert isinstance(await resumed.read(), pb.WatchAlertsResponse)  # its snapshot
    rest = []
    async with asyncio.timeout(WITHIN):
        while len(rest) < len(got) - 1:
            r = await resumed.read()
            assert isinstance(r, pb.WatchAlertsResponse)
            rest.append(r.alert.alert_id)
    resumed.cancel()
    assert rest == [r.alert.alert_id for r in got[1:]]
