"""worker-financial's schedules over the wire, from real processes: ListSchedules shows the seed's
four crons in JOBMESH_SCHEDULE_TZ with their next slots, TriggerSchedule sends a run now under a
job id of its own, Pause/ResumeSchedule change what every replica sees, and bad names are refused
(empty: INVALID_ARGUMENT naming `name`; unknown: NOT_FOUND). worker-trading runs no schedule."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from jobmesh.worker.v1 import worker_service_pb2 as pb
from jobmesh.worker.v1 import worker_service_pb2_grpc as pb_grpc
from tests.service_processes import SPECS, ServiceProcess, base_env, run_module, stop_all, wait_for

CRONS = {
    "daily-sync": "0 6 * * *",
    "hourly-categorization": "0 * * * *",
    "monthly-report": "0 9 1 * *",
    "weekly-reconciliation": "0 8 * * 1",
}


@pytest.fixture(scope="module")
def workers(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ServiceProcess]]:
    """worker-financial twice (two replicas) and worker-trading, on a prefix of their own."""
    data: Path = tmp_path_factory.mktemp("ledger")
    env = {"QUEUE_PREFIX": f"t{uuid.uuid4().hex[:10]}", "JOBMESH_SCHEDULE_TZ": "Europe/London"}
    services = {
        "a": ServiceProcess(SPECS["worker_financial"], redis_url, {**env, "JOBMESH_DATA_DIR": str(data)}),
        "b": ServiceProcess(SPECS["worker_financial"], redis_url, {**env, "JOBMESH_DATA_DIR": str(data)}),
        "trading": ServiceProcess(SPECS["worker_trading"], redis_url, env),
    }
    for svc in services.values():
        svc.start()
    try:
        wait_for(services.values(), "SERVING", timeout=90)  # three imports at once on a busy machine
        yield services
    finally:
        stop_all(services.values())


def stub(svc: ServiceProcess) -> pb_grpc.WorkerServiceStub:
    return pb_grpc.WorkerServiceStub(svc.channel)


def refused(call: grpc.RpcError) -> tuple[grpc.StatusCode, list[str]]:
    """The code of a refusal and the fields its BadRequest names."""
    status = rpc_status.from_call(call)  # type: ignore[arg-type]
    fields: list[str] = []
    for detail in status.details if status is not None else []:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            fields.extend(v.field for v in bad.field_violations)
    return call.code(), fields  # type: ignore[attr-defined]


def test_list_shows_the_four_schedules_in_the_configured_zone(workers: dict[str, ServiceProcess]) -> None:
    listed = stub(workers["a"]).ListSchedules(pb.ListSchedulesRequest(), timeout=10)
    assert {s.name: s.cron for s in listed.schedules} == CRONS
    for s in listed.schedules:
        assert s.timezone == "Europe/London"
        assert s.overlap_policy == pb.OVERLAP_POLICY_SKIP
        assert s.catchup_window.seconds == 3600
        assert len(s.next_slots) == 3 and s.next_run_at == s.next_slots[0]
        assert s.enabled and not s.paused
    page = stub(workers["b"]).ListSchedules(pb.ListSchedulesRequest(page_size=3), timeout=10)
    rest = stub(workers["b"]).ListSchedules(
        pb.ListSchedulesRequest(page_size=3, page_token=page.next_page_token), timeout=10
    )
    assert [s.name for s in [*page.schedules, *rest.schedules]] == sorted(CRONS)
    assert rest.next_page_token == ""


def test_trigger_sends_a_run_now_under_its_own_job_id(workers: dict[str, ServiceProcess]) -> None:
    request = pb.TriggerScheduleRequest(request_id=f"r{uuid.uuid4().hex[:8]}", name="monthly-report")
    first = stub(workers["a"]).TriggerSchedule(request, timeout=10)
    again = stub(workers["b"]).TriggerSchedule(request, timeout=10)
    assert first == again  # a repeated request_id gets the first answer, from any replica
    assert first.queue == "report-generation"
    assert list(first.job_ids) == [first.job_id] == [f"monthly-report.trigger-{request.request_id}"]
    listed = stub(workers["b"]).ListSchedules(pb.ListSchedulesRequest(), timeout=10)
    report = next(s for s in listed.schedules if s.name == "monthly-report")
    triggered = [r for r in report.recent_runs if r.triggered]
    assert [list(r.job_ids) for r in triggered] == [[first.job_id]]
    assert report.last_job_id == first.job_id


def test_pause_and_resume_with_a_note_are_seen_by_every_replica(workers: dict[str, ServiceProcess]) -> None:
    paused = stub(workers["a"]).PauseSchedule(
        pb.PauseScheduleRequest(name="daily-sync", note="bank API down"), timeout=10
    )
    assert paused.schedule.paused and not paused.schedule.enabled and paused.schedule.note == "bank API down"
    seen = stub(workers["b"]).ListSchedules(pb.ListSchedulesRequest(), timeout=10)
    daily = next(s for s in seen.schedules if s.name == "daily-sync")
    assert daily.paused and daily.note == "bank API down"
    resumed = stub(workers["b"]).ResumeSchedule(
        pb.ResumeScheduleRequest(name="daily-sync", note="back"), timeout=10
    )
    assert not resumed.schedule.paused and resumed.schedule.note == "back"


def test_bad_schedule_names_are_refused(workers: dict[str, ServiceProcess]) -> None:
    w = stub(workers["a"])
    calls = {
        "TriggerSchedule": lambda name: w.TriggerSchedule(pb.TriggerScheduleRequest(name=name), timeout=10),
        "PauseSchedule": lambda name: w.PauseSchedule(pb.PauseScheduleRequest(name=name), timeout=10),
        "ResumeSchedule": lambda name: w.ResumeSchedule(pb.ResumeScheduleRequest(name=name), timeout=10),
    }
    for rpc, call in calls.items():
        with pytest.raises(grpc.RpcError) as empty:
            call("")
        assert refused(empty.value) == (grpc.StatusCode.INVALID_ARGUMENT, ["name"]), rpc
        with pytest.raises(grpc.RpcError) as unknown:
            call("fortnightly-audit")
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND, rpc  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as big:
        w.ListSchedules(pb.ListSchedulesRequest(page_size=-1), timeout=10)
    assert refused(big.value) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_size"])


def test_worker_trading_runs_no_schedule(workers: dict[str, ServiceProcess]) -> None:
    trading = stub(workers["trading"])
    assert list(trading.ListSchedules(pb.ListSchedulesRequest(), timeout=10).schedules) == []
    with pytest.raises(grpc.RpcError) as unknown:
        trading.PauseSchedule(pb.PauseScheduleRequest(name="daily-sync"), timeout=10)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]


def test_a_zone_zoneinfo_does_not_know_stops_start_up() -> None:
    result = run_module("worker_financial", base_env(JOBMESH_SCHEDULE_TZ="Mars/Olympus_Mons"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "worker-financial: JOBMESH_SCHEDULE_TZ: expected an IANA time zone such as UTC or Europe/London, "
        "got 'Mars/Olympus_Mons'"
    ]
