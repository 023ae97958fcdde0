"""FinancialService over the wire: a real aio server behind the kit's interceptors, on the test's
Redis, the ledger on SQLite and on PostgreSQL, GoCardless played by the local server of
bench/bank_servers.py. A bank is linked from the first call to the accounts listed; reports written
by report-generation are listed and downloaded byte for byte, and a changed or lost file is
DATA_LOSS; the reconciliations kept are listed and read back with their unmatched items; every
refusal comes with the status and detail a client acts on."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from google.protobuf.message import Message
from google.protobuf.struct_pb2 import Value
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from bench.bank_servers import FakeAccount, FakeGoCardless
from jobmesh.financial.v1 import financial_service_pb2 as pb
from jobmesh.financial.v1 import financial_service_pb2_grpc as pb_grpc
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from service_kit.idempotency import Idempotent
from tests.service_kit.wire import Answer, serve_with_kit
from tests.worker_financial.conftest import sync_settings_for
from worker_financial.ledger import report_files
from worker_financial.ledger.entries import AccountRecord, NewAccount, NewTransaction
from worker_financial.ledger.store import Ledger
from worker_financial.reconciliation.reconcile import ProviderBalance, reconcile
from worker_financial.reports.download import CHUNK_BYTES
from worker_financial.reports.generate import generate_report
from worker_financial.servicers.financial import MAX_REFERENCE, FinancialServicer, default_reference
from worker_financial.sync.gocardless import GoCardlessSettings
from worker_financial.sync.providers import Providers, SyncSettings

INSTITUTION = "SANDBOXFINANCE_SFIN0000"
BACK = "https://example.org/linked"
# Generous: the PostgreSQL leg and a loaded machine must not fail on time alone.
DEADLINE = 30.0

Serve = Callable[[Providers], Awaitable[pb_grpc.FinancialServiceStub]]


@pytest.fixture
def reports_dir(tmp_path: Path) -> Path:
    return tmp_path / "reports"


@pytest.fixture
async def serve(
    ledger: Ledger, redis_client: aioredis.Redis, queue_prefix: str, reports_dir: Path
) -> AsyncIterator[Serve]:
    """Starts FinancialService over the given providers; everything started is stopped after."""
    started: list[tuple[grpc.aio.Server, grpc.aio.Channel]] = []

    async def start(providers: Providers) -> pb_grpc.FinancialServiceStub:
        once = Idempotent(redis_client, queue_prefix, "FinancialService")
        servicer = FinancialServicer(ledger, providers, reports_dir, once)
        server, port = await serve_with_kit(
            [lambda s: pb_grpc.add_FinancialServiceServicer_to_server(servicer, s)]
        )
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        started.append((server, channel))
        return pb_grpc.FinancialServiceStub(channel)

    yield start
    for server, channel in started:
        await channel.close()
        await server.stop(None)


@pytest.fixture
async def stub(serve: Serve, providers: Providers) -> pb_grpc.FinancialServiceStub:
    """FinancialService with GoCardless pointed at the test's local server."""
    return await serve(providers)


@pytest.fixture
async def unconfigured(
    serve: Serve, redis_client: aioredis.Redis, queue_prefix: str
) -> AsyncIterator[pb_grpc.FinancialServiceStub]:
    """FinancialService on a worker without GOCARDLESS_* settings."""
    none = Providers(SyncSettings(), redis_client, queue_prefix)
    try:
        yield await serve(none)
    finally:
        await none.aclose()


async def refused(call: Awaitable[Any]) -> tuple[Answer, dict[str, Message]]:
    """The failed call as the client sees it, and its detail messages by type name."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return Answer.of(caught.value), _details(caught.value)


def _details(error: grpc.aio.AioRpcError) -> dict[str, Message]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    found: dict[str, Message] = {}
    kinds = (
        error_details_pb2.PreconditionFailure,
        error_details_pb2.ResourceInfo,
        error_details_pb2.RetryInfo,
        error_details_pb2.QuotaFailure,
    )
    for detail in status.details if status is not None else []:
        for kind in kinds:
            message = kind()
            if detail.Unpack(message):
                found[kind.__name__] = message
    return found


async def download(
    stub: pb_grpc.FinancialServiceStub, report_id: str
) -> tuple[list[pb.DownloadReportResponse], grpc.aio.AioRpcError | None]:
    """Every message of a download, and the error that ended it (None: it finished)."""
    got: list[pb.DownloadReportResponse] = []
    try:
        request = pb.DownloadReportRequest(report_id=report_id)
        async for reply in stub.DownloadReport(request, timeout=DEADLINE):
            got.append(reply)
    except grpc.aio.AioRpcError as exc:
        return got, exc
    return got, None


async def all_accounts(stub: pb_grpc.FinancialServiceStub, page_size: int) -> list[pb.Account]:
    """Every account, page by page (the PostgreSQL database is shared with other tests)."""
    accounts: list[pb.Account] = []
    token = ""
    while True:
        page = await stub.ListAccounts(
            pb.ListAccountsRequest(page_size=page_size, page_token=token), timeout=DEADLINE
        )
        assert len(page.accounts) <= page_size
        accounts += page.accounts
        token = page.next_page_token
        if not token:
            return accounts


# --- bank links --------------------------------------------------------------------------------


async def test_a_bank_is_linked_its_accounts_opened_once_and_listed(
    stub: pb_grpc.FinancialServiceStub, gocardless_server: FakeGoCardless, ledger: Ledger, account_id: str
) -> None:
    second = f"{account_id}_b"
    gocardless_server.accounts[account_id] = FakeAccount(currency="EUR", name="Giro")
    gocardless_server.accounts[second] = FakeAccount(currency="GBP", name="Savings")
    ask = pb.CreateBankLinkRequest(
        request_id=f"link-{account_id}", institution_id=INSTITUTION, redirect_url=BACK, reference=account_id
    )
    created = (await stub.CreateBankLink(ask, timeout=DEADLINE)).bank_link
    assert created.status == "CR" and created.reference == account_id
    assert created.requisition_id in gocardless_server.requisitions
    assert created.link.endswith(f"/{created.requisition_id}/{INSTITUTION}")
    asked = gocardless_server.requisitions[created.requisition_id]
    assert (asked["institution_id"], asked["redirect"], asked["reference"]) == (INSTITUTION, BACK, account_id)
    # a retry of the same call answers the same link instead of making a second requisition
    assert (await stub.CreateBankLink(ask, timeout=DEADLINE)).bank_link == created
    assert gocardless_server.calls("/requisitions/", "POST") == 1

    complete = pb.CompleteBankLinkRequest(requisition_id=created.requisition_id)
    answer, details = await refused(stub.CompleteBankLink(complete, timeout=DEADLINE))
    assert answer.code == grpc.StatusCode.FAILED_PRECONDITION, answer
    assert created.link in answer.message and "is not linked (status CR)" in answer.message
    assert answer.info is not None and answer.info.reason == "REQUISITION_NOT_LINKED"
    failure = details["PreconditionFailure"]
    assert isinstance(failure, error_details_pb2.PreconditionFailure)
    assert failure.violations[0].subject == f"requisitions/{created.requisition_id}"
    assert await ledger.account(account_id) is None

    gocardless_server.link(created.requisition_id, [account_id, second])
    done = await stub.CompleteBankLink(complete, timeout=DEADLINE)
    assert done.bank_link.status == "LN"
    opened = [(a.account_id, a.currency, a.name, a.provider, a.external_id) for a in done.accounts]
    assert opened == [
        (account_id, "EUR", "Giro", "gocardless", account_id),
        (second, "GBP", "Savings", "gocardless", second),
    ]
    details_calls = gocardless_server.calls("/details/")
    again = await stub.CompleteBankLink(complete, timeout=DEADLINE)
    assert list(again.accounts) == list(done.accounts)  # nothing changed ...
    assert gocardless_server.calls("/details/") == details_calls  # ... nor was asked again

    await ledger.advance_cursor(account_id, "gocardless", date(2024, 3, 4))
    listed = {a.account_id: a for a in await all_accounts(stub, page_size=1)}
    assert {account_id, second} <= set(listed)
    assert listed[account_id].last_booked_date == "2024-03-04"
    assert listed[second].last_booked_date == ""  # never synced
    assert (listed[second].currency, listed[second].provider, listed[second].name) == (
        "GBP", "gocardless", "Savings",
    )
    assert listed[account_id].created_at.ToSeconds() > 0
    reports_token = '{"at":"2024-01-01T00:00:00+00:00","id":"x"}'
    answer, _ = await refused(
        stub.ListAccounts(
            pb.ListAccountsRequest(page_token=base64.urlsafe_b64encode(reports_token.encode()).decode()),
            timeout=DEADLINE,
        )
    )
    assert answer.code == grpc.StatusCode.INVALID_ARGUMENT and set(answer.bad_fields) == {"page_token"}
    ids = [a.account_id for a in await all_accounts(stub, page_size=1000)]
    # by id (in the database's collation): pages of one neither repeat nor skip what one page shows
    assert ids == list(listed) and len(set(ids)) == len(ids)


async def test_an_unknown_requisition_is_not_found(
    stub: pb_grpc.FinancialServiceStub, gocardless_server: FakeGoCardless
) -> None:
    answer, details = await refused(
        stub.CompleteBankLink(pb.CompleteBankLinkRequest(requisition_id="req-none"), timeout=DEADLINE)
    )
    assert answer.code == grpc.StatusCode.NOT_FOUND, answer
    info = details["ResourceInfo"]
    assert isinstance(info, error_details_pb2.ResourceInfo)
    assert (info.resource_type, info.resource_name) == ("requisition", "req-none")


async def test_a_requisition_listing_an_account_gocardless_lacks_is_a_failed_precondition(
    stub: pb_grpc.FinancialServiceStub, gocardless_server: FakeGoCardless, ledger: Ledger, account_id: str
) -> None:
    created = (
        await stub.CreateBankLink(
            pb.CreateBankLinkRequest(institution_id=INSTITUTION, redirect_url=BACK), timeout=DEADLINE
        )
    ).bank_link
    gocardless_server.link(created.requisition_id, [account_id])  # an account the bank does not have
    answer, _ = await refused(
        stub.CompleteBankLink(
            pb.CompleteBankLinkRequest(requisition_id=created.requisition_id), timeout=DEADLINE
        )
    )
    assert answer.code == grpc.StatusCode.FAILED_PRECONDITION, answer
    assert account_id in answer.message and "GoCardless refused" in answer.message
    assert await ledger.account(account_id) is None


async def test_without_gocardless_settings_links_fail_naming_the_variables(
    unconfigured: pb_grpc.FinancialServiceStub,
) -> None:
    calls = [
        unconfigured.CreateBankLink(
            pb.CreateBankLinkRequest(institution_id=INSTITUTION, redirect_url=BACK), timeout=DEADLINE
        ),
        unconfigured.CompleteBankLink(pb.CompleteBankLinkRequest(requisition_id="req-1"), timeout=DEADLINE),
    ]
    for call in calls:
        answer, details = await refused(call)
        assert answer.code == grpc.StatusCode.FAILED_PRECONDITION, answer
        assert "GOCARDLESS_SECRET_ID" in answer.message and "GOCARDLESS_SECRET_KEY" in answer.message
        assert answer.info is not None and answer.info.reason == "PROVIDER_NOT_CONFIGURED"
        failure = details["PreconditionFailure"]
        assert isinstance(failure, error_details_pb2.PreconditionFailure)
        assert (failure.violations[0].type, failure.violations[0].subject) == ("CONFIGURATION", "gocardless")
    # reads need no provider
    await unconfigured.ListAccounts(pb.ListAccountsRequest(), timeout=DEADLINE)


async def test_a_rate_limited_bank_is_resource_exhausted_with_when_to_retry(
    stub: pb_grpc.FinancialServiceStub, gocardless_server: FakeGoCardless, account_id: str
) -> None:
    gocardless_server.accounts[account_id] = FakeAccount()
    created = (
        await stub.CreateBankLink(
            pb.CreateBankLinkRequest(institution_id=INSTITUTION, redirect_url=BACK), timeout=DEADLINE
        )
    ).bank_link
    assert created.reference.startswith("jobmesh-")  # made when none is given
    gocardless_server.link(created.requisition_id, [account_id])
    gocardless_server.throttle_next(1, reset_s=7)
    answer, details = await refused(
        stub.CompleteBankLink(
            pb.CompleteBankLinkRequest(requisition_id=created.requisition_id), timeout=DEADLINE
        )
    )
    assert answer.code == grpc.StatusCode.RESOURCE_EXHAUSTED, answer
    assert answer.info is not None and answer.info.reason == "PROVIDER_RATE_LIMITED"
    retry = details["RetryInfo"]
    assert isinstance(retry, error_details_pb2.RetryInfo)
    assert retry.retry_delay.seconds == 7


async def test_a_failing_or_silent_gocardless_is_unavailable(
    serve: Serve,
    stub: pb_grpc.FinancialServiceStub,
    gocardless_server: FakeGoCardless,
    redis_client: aioredis.Redis,
    queue_prefix: str,
) -> None:
    failing: Any = gocardless_server
    failing.handle = lambda request: (503, {}, {"summary": "Service unavailable", "detail": "maintenance"})
    ask = pb.CreateBankLinkRequest(institution_id=INSTITUTION, redirect_url=BACK)
    answer, details = await refused(stub.CreateBankLink(ask, timeout=DEADLINE))
    assert answer.code == grpc.StatusCode.UNAVAILABLE, answer
    assert "HTTP 503" in answer.message and "fake-secret" not in answer.message
    assert answer.info is not None and answer.info.reason == "PROVIDER_UNAVAILABLE"
    assert "RetryInfo" in details

    gone = sync_settings_for(gocardless_server)
    closed = GoCardlessSettings(
        secret_id=gone.gocardless.secret_id,
        secret_key=gone.gocardless.secret_key,
        base_url="http://127.0.0.1:9",  # discard: nothing listens
        timeout_s=5,
    )
    silent = Providers(SyncSettings(gocardless=closed), redis_client, queue_prefix)
    try:
        answer, _ = await refused((await serve(silent)).CreateBankLink(ask, timeout=DEADLINE))
    finally:
        await silent.aclose()
    assert answer.code == grpc.StatusCode.UNAVAILABLE, answer
    assert "does not answer" in answer.message


async def test_refused_credentials_are_a_failed_precondition_without_the_secret(
    serve: Serve, gocardless_server: FakeGoCardless, redis_client: aioredis.Redis, queue_prefix: str
) -> None:
    wrong = GoCardlessSettings(
        secret_id="wrong-id", secret_key="wrong-key-s3cret", base_url=gocardless_server.base_url
    )
    providers = Providers(SyncSettings(gocardless=wrong), redis_client, queue_prefix)
    try:
        stub = await serve(providers)
        answer, _ = await refused(
            stub.CreateBankLink(
                pb.CreateBankLinkRequest(institution_id=INSTITUTION, redirect_url=BACK), timeout=DEADLINE
            )
        )
    finally:
        await providers.aclose()
    assert answer.code == grpc.StatusCode.FAILED_PRECONDITION, answer
    assert "GOCARDLESS_SECRET_KEY" in answer.message
    assert "wrong-key-s3cret" not in answer.message and "wrong-key-s3cret" not in str(answer.info)


# --- reports -----------------------------------------------------------------------------------


def file_bytes(location: str) -> bytes:
    return Path(location).read_bytes()


def put(location: str, content: bytes | None) -> None:
    """Write `content` over a report's file (None: remove it), as something else than the worker."""
    if content is None:
        Path(location).unlink()
    else:
        Path(location).write_bytes(content)


async def register_file(ledger: Ledger, job_id: str, path: Path, content: bytes) -> None:
    """Record `path` (holding `content`) as a January cash-flow CSV report of job `job_id`."""
    await report_files.register(
        ledger,
        report_files.ReportFile(
            job_id=job_id,
            report_type="cash_flow",
            format="csv",
            period_start=date(2024, 1, 1),
            period_end=date(2024, 1, 31),
            location=str(path),
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            transactions=0,
        ),
    )


def report_job(report_type: int, report_format: int, account_id: str) -> fj.ReportGenerationJob:
    job = fj.ReportGenerationJob(report_type=report_type, format=report_format)  # type: ignore[arg-type]
    job.parameters.date_range.start.FromJsonString("2024-03-01T00:00:00Z")
    job.parameters.date_range.end.FromJsonString("2024-03-31T00:00:00Z")
    job.parameters.filters.update({"accountId": account_id})
    return job


@pytest.fixture
async def books(ledger: Ledger, account_id: str) -> str:
    """A manual account with a few March transactions."""
    await ledger.open_account(NewAccount(account_id, "Books", "EUR", "manual"))
    await ledger.record(
        account_id,
        [
            NewTransaction(
                date(2024, 3, day), Decimal(amount), "EUR", f"payee {day}", provider_transaction_id=f"t{day}"
            )
            for day, amount in ((1, "2000.00"), (3, "-700.00"), (15, "-4.25"))
        ],
    )
    return account_id


async def test_generated_reports_are_listed_newest_first_and_downloaded_byte_for_byte(
    stub: pb_grpc.FinancialServiceStub, ledger: Ledger, reports_dir: Path, books: str
) -> None:
    first = await generate_report(
        report_job(fj.REPORT_TYPE_CASH_FLOW, fj.REPORT_FORMAT_CSV, books), f"{books}-r1", ledger, reports_dir
    )
    second = await generate_report(
        report_job(fj.REPORT_TYPE_MONTHLY_SUMMARY, fj.REPORT_FORMAT_PDF, books),
        f"{books}-r2",
        ledger,
        reports_dir,
    )
    listed = await stub.ListReports(pb.ListReportsRequest(page_size=1000), timeout=DEADLINE)
    mine = [r for r in listed.reports if r.report_id.startswith(books)]
    assert [r.report_id for r in mine] == [f"{books}-r2", f"{books}-r1"]  # newest first
    assert (mine[1].report_type, mine[1].format) == (fj.REPORT_TYPE_CASH_FLOW, fj.REPORT_FORMAT_CSV)
    assert (mine[1].period_start, mine[1].period_end) == ("2024-03-01", "2024-03-31")
    assert (mine[1].location, mine[1].size_bytes, mine[1].sha256) == (
        first.location, first.size_bytes, first.sha256,
    )
    assert mine[1].transactions == 3 and mine[1].created_at.ToSeconds() > 0
    times = [r.created_at.ToDatetime() for r in listed.reports]
    assert times == sorted(times, reverse=True)

    cash_flows = await stub.ListReports(
        pb.ListReportsRequest(report_type=fj.REPORT_TYPE_CASH_FLOW, page_size=1000), timeout=DEADLINE
    )
    assert {r.report_type for r in cash_flows.reports} == {fj.REPORT_TYPE_CASH_FLOW}
    assert f"{books}-r1" in {r.report_id for r in cash_flows.reports}
    assert f"{books}-r2" not in {r.report_id for r in cash_flows.reports}

    # page by page: the same reports in the same order, none twice
    paged: list[str] = []
    token = ""
    while True:
        page = await stub.ListReports(pb.ListReportsRequest(page_size=1, page_token=token), timeout=DEADLINE)
        paged += [r.report_id for r in page.reports]
        token = page.next_page_token
        if not token:
            break
    assert paged == [r.report_id for r in listed.reports]

    for result, report_id in ((first, f"{books}-r1"), (second, f"{books}-r2")):
        got, error = await download(stub, report_id)
        assert error is None, error
        head, *chunks = got
        assert head.report.report_id == report_id and head.report.sha256 == result.sha256
        assert not head.chunk and all(c.chunk and not c.HasField("report") for c in chunks)
        data = b"".join(c.chunk for c in chunks)
        assert data == file_bytes(result.location)
        assert hashlib.sha256(data).hexdigest() == result.sha256


async def test_a_large_report_comes_in_chunks_of_64_kib(
    stub: pb_grpc.FinancialServiceStub, ledger: Ledger, reports_dir: Path, account_id: str
) -> None:
    content = bytes(range(256)) * (CHUNK_BYTES * 3 // 256) + b"tail"
    path = reports_dir / "cash_flow" / f"{account_id}.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    await register_file(ledger, account_id, path, content)
    got, error = await download(stub, account_id)
    assert error is None, error
    sizes = [len(m.chunk) for m in got[1:]]
    assert sizes == [CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, 4]
    assert b"".join(m.chunk for m in got[1:]) == content


async def test_a_changed_or_lost_report_file_is_data_loss_and_nothing_is_sent(
    stub: pb_grpc.FinancialServiceStub, ledger: Ledger, reports_dir: Path, books: str
) -> None:
    result = await generate_report(
        report_job(fj.REPORT_TYPE_CASH_FLOW, fj.REPORT_FORMAT_JSON, books), books, ledger, reports_dir
    )
    original = file_bytes(result.location)
    tampered = bytearray(original)
    tampered[len(tampered) // 2] ^= 0x01  # one bit, same size
    put(result.location, bytes(tampered))
    got, error = await download(stub, books)
    assert got == [] and error is not None
    answer = Answer.of(error)
    assert answer.code == grpc.StatusCode.DATA_LOSS, answer
    assert "no longer the one written" in answer.message
    assert answer.info is not None and answer.info.reason == "DATA_LOSS"
    info = _details(error)["ResourceInfo"]
    assert isinstance(info, error_details_pb2.ResourceInfo)
    assert (info.resource_type, info.resource_name) == ("report", books)

    put(result.location, original)  # put back: served again
    got, error = await download(stub, books)
    assert error is None and b"".join(m.chunk for m in got) == original

    put(result.location, None)
    got, error = await download(stub, books)
    assert got == [] and error is not None
    answer = Answer.of(error)
    assert answer.code == grpc.StatusCode.DATA_LOSS and "gone" in answer.message, answer


async def test_a_report_recorded_outside_the_reports_folder_is_not_handed_out(
    stub: pb_grpc.FinancialServiceStub, ledger: Ledger, tmp_path: Path, account_id: str
) -> None:
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_bytes(b"not a report")
    await register_file(ledger, account_id, elsewhere, b"not a report")
    got, error = await download(stub, account_id)
    assert got == [] and error is not None
    assert Answer.of(error).code == grpc.StatusCode.DATA_LOSS


async def test_an_unknown_report_is_not_found(stub: pb_grpc.FinancialServiceStub, account_id: str) -> None:
    got, error = await download(stub, f"{account_id}-never")
    assert got == [] and error is not None
    answer = Answer.of(error)
    assert answer.code == grpc.StatusCode.NOT_FOUND, answer
    info = _details(error)["ResourceInfo"]
    assert isinstance(info, error_details_pb2.ResourceInfo)
    assert (info.resource_type, info.resource_name) == ("report", f"{account_id}-never")


# --- reconciliations ---------------------------------------------------------------------------


def reconciliation_job(
    account_id: str, kind: int, target: str | None, threshold: str, *, span: tuple[date, date] | None = None
) -> fj.AccountReconciliationJob:
    """A reconciliation job run on 2 April 2024 (a monthly one covers March)."""
    on = Timestamp()
    on.FromDatetime(datetime(2024, 4, 2, 8, 0, tzinfo=UTC))
    job = fj.AccountReconciliationJob(
        account_id=account_id,
        reconciliation_type=kind,  # type: ignore[arg-type]
        discrepancy_threshold=Value(string_value=threshold),
        timestamp=on,
    )
    if target is not None:
        job.target_balance.string_value = target
    if span is not None:
        for field, day in ((job.date_range.start, span[0]), (job.date_range.end, span[1])):
            field.FromDatetime(datetime(day.year, day.month, day.day, tzinfo=UTC))
    return job


async def all_reconciliations(
    stub: pb_grpc.FinancialServiceStub, page_size: int, **filters: Any
) -> list[pb.Reconciliation]:
    """Every reconciliation the filters let through, page by page."""
    found: list[pb.Reconciliation] = []
    token = ""
    while True:
        page = await stub.ListReconciliations(
            pb.ListReconciliationsRequest(page_size=page_size, page_token=token, **filters), timeout=DEADLINE
        )
        assert len(page.reconciliations) <= page_size
        found += page.reconciliations
        token = page.next_page_token
        if not token:
            return found


@pytest.fixture
async def reconciled(ledger: Ledger, account_id: str) -> tuple[str, str]:
    """Two accounts and three reconciliation runs, oldest first: `{a}-ok` and `{a}-off` of account a,
    `{b}-ok` of account b (see the figures in the test)."""
    other = f"{account_id}_b"
    await ledger.open_account(
        NewAccount(account_id, "Giro", "EUR", "manual", opening_balance=Decimal("1000"))
    )
    await ledger.open_account(NewAccount(other, "Savings", "EUR", "manual", opening_balance=Decimal("10")))
    await ledger.record(
        account_id,
        [
            NewTransaction(
                date(2024, 2, 28), Decimal("2500.00"), "EUR", "Employer", provider_transaction_id="s1"
            ),
            NewTransaction(
                date(2024, 3, 1), Decimal("-1200.00"), "EUR", "Landlord", provider_transaction_id="r1"
            ),
            NewTransaction(
                date(2024, 3, 5),
                Decimal("-3.50"),
                "EUR",
                "Cafe",
                description="flat white",
                provider_transaction_id="c1",
            ),
            NewTransaction(date(2024, 3, 10), Decimal("-15.00"), "EUR", "Kiosk", booked=False),
        ],
    )
    # March, from the job's target: the ledger adds up.
    await reconcile(
        reconciliation_job(account_id, fj.RECONCILIATION_TYPE_MONTHLY, "2296.50", "0"),
        f"{account_id}-ok",
        ledger,
    )
    bookshop = NewTransaction(
        date(2024, 3, 20),
        Decimal("-42.00"),
        "EUR",
        "Bookshop",
        description="novel",
        provider_transaction_id="b1",
    )

    async def provider(account: AccountRecord, start: date, end: date) -> ProviderBalance:
        return ProviderBalance(
            Decimal("2258.00"),
            (
                NewTransaction(
                    date(2024, 3, 1), Decimal("-1200.00"), "EUR", "Landlord", provider_transaction_id="r1"
                ),
                bookshop,
            ),
        )

    # The same March by hand over the provider's list: a bookshop payment the ledger lacks, no coffee.
    march = (date(2024, 3, 1), date(2024, 3, 31))
    await reconcile(
        reconciliation_job(account_id, fj.RECONCILIATION_TYPE_MANUAL, None, "1", span=march),
        f"{account_id}-off",
        ledger,
        provider,
    )
    await reconcile(
        reconciliation_job(other, fj.RECONCILIATION_TYPE_DAILY, "10.00", "0"), f"{other}-ok", ledger
    )
    return account_id, other


async def test_kept_reconciliations_are_listed_newest_first_filtered_and_read_back_with_their_items(
    stub: pb_grpc.FinancialServiceStub, reconciled: tuple[str, str]
) -> None:
    """By hand, account a, March 2024: opening 1000.00 + 2500.00 (28 Feb) = 3500.00.
    - `-ok` (monthly, target 2296.50 from the job, threshold 0): every booked March transaction
      matches, -1200.00 - 3.50 = -1203.50 (2 of them), 3500.00 - 1203.50 = 2296.50: discrepancy 0.00,
      passed; unmatched: the pending kiosk (ledger side).
    - `-off` (manual 1..31 March, the provider's 2258.00 = 3500.00 - 1200.00 - 42.00, threshold 1):
      only the rent matches (-1200.00, 1), 2258.00 - (3500.00 - 1200.00) = -42.00: failed; unmatched
      ledger: the coffee it does not list and the pending kiosk; statement: the bookshop.
    Account b (opened with 10.00, nothing booked), daily on 1 April, target 10.00: passed."""
    a, b = reconciled
    everything = await all_reconciliations(stub, 1000)
    mine = [r for r in everything if r.account_id in (a, b)]
    assert [r.reconciliation_id for r in mine] == [f"{b}-ok", f"{a}-off", f"{a}-ok"]  # newest first
    times = [r.created_at.ToDatetime() for r in everything]
    assert times == sorted(times, reverse=True)
    figures = [
        (
            r.reconciliation_type,
            r.period_start,
            r.period_end,
            r.target_balance,
            r.target_source,
            r.opening_balance,
            r.matched_total,
            r.matched_transactions,
            r.discrepancy,
            r.discrepancy_threshold,
            r.passed,
            r.items_compared,
            r.unmatched_ledger_count,
            r.unmatched_statement_count,
        )
        for r in mine
    ]
    assert figures == [
        (
            fj.RECONCILIATION_TYPE_DAILY,
            "2024-04-01",
            "2024-04-01",
            "10.00",
            "job",
            "10.00",
            "0.00",
            0,
            "0.00",
            "0.00",
            True,
            False,
            0,
            0,
        ),
        (
            fj.RECONCILIATION_TYPE_MANUAL,
            "2024-03-01",
            "2024-03-31",
            "2258.00",
            "provider",
            "3500.00",
            "-1200.00",
            1,
            "-42.00",
            "1.00",
            False,
            True,
            2,
            1,
        ),
        (
            fj.RECONCILIATION_TYPE_MONTHLY,
            "2024-03-01",
            "2024-03-31",
            "2296.50",
            "job",
            "3500.00",
            "-1203.50",
            2,
            "0.00",
            "0.00",
            True,
            False,
            1,
            0,
        ),
    ]
    assert all(r.created_at.ToSeconds() > 0 for r in mine)

    # filters: an account's, passed only, failed only (and both)
    ids = [r.reconciliation_id for r in await all_reconciliations(stub, 1000, account_id=a)]
    assert ids == [f"{a}-off", f"{a}-ok"]
    passed = await all_reconciliations(stub, 1000, outcome=pb.RECONCILIATION_OUTCOME_PASSED)
    assert all(r.passed for r in passed)
    assert {f"{a}-ok", f"{b}-ok"} <= {r.reconciliation_id for r in passed}
    assert f"{a}-off" not in {r.reconciliation_id for r in passed}
    failed = await all_reconciliations(stub, 1000, outcome=pb.RECONCILIATION_OUTCOME_FAILED)
    assert not any(r.passed for r in failed)
    assert f"{a}-off" in {r.reconciliation_id for r in failed}
    assert not {f"{a}-ok", f"{b}-ok"} & {r.reconciliation_id for r in failed}
    failed_of_a = await all_reconciliations(
        stub, 1000, account_id=a, outcome=pb.RECONCILIATION_OUTCOME_FAILED
    )
    assert [r.reconciliation_id for r in failed_of_a] == [f"{a}-off"]
    assert await all_reconciliations(stub, 1000, account_id=f"{a}_none") == []

    # pages of one: the same reconciliations in the same order, none twice, none skipped
    assert await all_reconciliations(stub, 1) == everything
    assert await all_reconciliations(stub, 1, account_id=a) == mine[1:]

    got = await stub.GetReconciliation(
        pb.GetReconciliationRequest(reconciliation_id=f"{a}-off"), timeout=DEADLINE
    )
    assert got.reconciliation == mine[1]
    ledger_side = [
        (i.booking_date, i.amount, i.payee, i.description, i.provider_transaction_id, i.booked)
        for i in got.unmatched_ledger
    ]
    assert ledger_side == [
        ("2024-03-05", "-3.50", "Cafe", "flat white", "c1", True),
        ("2024-03-10", "-15.00", "Kiosk", "", "", False),
    ]
    assert all(i.transaction_id > 0 for i in got.unmatched_ledger)  # the ledger's rows
    assert len({i.transaction_id for i in got.unmatched_ledger}) == 2
    statement_side = [
        (
            i.transaction_id,
            i.booking_date,
            i.amount,
            i.payee,
            i.description,
            i.provider_transaction_id,
            i.booked,
        )
        for i in got.unmatched_statement
    ]
    assert statement_side == [(0, "2024-03-20", "-42.00", "Bookshop", "novel", "b1", True)]

    ok = await stub.GetReconciliation(
        pb.GetReconciliationRequest(reconciliation_id=f"{a}-ok"), timeout=DEADLINE
    )
    assert ok.reconciliation == mine[2]
    assert [(i.payee, i.amount, i.booked) for i in ok.unmatched_ledger] == [("Kiosk", "-15.00", False)]
    assert list(ok.unmatched_statement) == []


async def test_an_unknown_reconciliation_is_not_found(
    stub: pb_grpc.FinancialServiceStub, account_id: str
) -> None:
    answer, details = await refused(
        stub.GetReconciliation(
            pb.GetReconciliationRequest(reconciliation_id=f"{account_id}-never"), timeout=DEADLINE
        )
    )
    assert answer.code == grpc.StatusCode.NOT_FOUND, answer
    info = details["ResourceInfo"]
    assert isinstance(info, error_details_pb2.ResourceInfo)
    assert (info.resource_type, info.resource_name) == ("reconciliation", f"{account_id}-never")


# --- bad requests ------------------------------------------------------------------------------


async def test_bad_requests_are_invalid_arguments_naming_each_field(
    stub: pb_grpc.FinancialServiceStub, gocardless_server: FakeGoCardless
) -> None:
    cases: list[tuple[Awaitable[Any], set[str]]] = [
        (
            stub.CreateBankLink(pb.CreateBankLinkRequest(), timeout=DEADLINE),
            {"institution_id", "redirect_url"},
        ),
        (
            stub.CreateBankLink(
                pb.CreateBankLinkRequest(
                    institution_id="../token/new", redirect_url="ftp://example.org", reference=" x"
                ),
                timeout=DEADLINE,
            ),
            {"institution_id", "redirect_url", "reference"},
        ),
        (
            stub.CreateBankLink(
                pb.CreateBankLinkRequest(
                    request_id="has space", institution_id=INSTITUTION, redirect_url=BACK
                ),
                timeout=DEADLINE,
            ),
            {"request_id"},
        ),
        (stub.CompleteBankLink(pb.CompleteBankLinkRequest(), timeout=DEADLINE), {"requisition_id"}),
        (
            stub.CompleteBankLink(pb.CompleteBankLinkRequest(requisition_id=".."), timeout=DEADLINE),
            {"requisition_id"},
        ),
        (stub.ListAccounts(pb.ListAccountsRequest(page_size=-1), timeout=DEADLINE), {"page_size"}),
        (stub.ListAccounts(pb.ListAccountsRequest(page_token="not ours"), timeout=DEADLINE), {"page_token"}),
        (
            stub.ListReports(pb.ListReportsRequest(report_type=99, page_size=1001), timeout=DEADLINE),  # type: ignore[arg-type]
            {"report_type", "page_size"},
        ),
        (stub.ListReports(pb.ListReportsRequest(page_token="e30x"), timeout=DEADLINE), {"page_token"}),
        (
            stub.ListReconciliations(
                pb.ListReconciliationsRequest(page_size=-1, account_id="a" * 129, outcome=7),  # type: ignore[arg-type]
                timeout=DEADLINE,
            ),
            {"page_size", "account_id", "outcome"},
        ),
        (
            stub.ListReconciliations(pb.ListReconciliationsRequest(page_token="not ours"), timeout=DEADLINE),
            {"page_token"},
        ),
        (stub.GetReconciliation(pb.GetReconciliationRequest(), timeout=DEADLINE), {"reconciliation_id"}),
        (
            stub.GetReconciliation(
                pb.GetReconciliationRequest(reconciliation_id="r" * 257), timeout=DEADLINE
            ),
            {"reconciliation_id"},
        ),
    ]
    # one list's token is not another's: a reports token to ListReconciliations and back
    report_token = base64.urlsafe_b64encode(b'{"at":"2024-03-01T00:00:00+00:00","id":"x"}').decode()
    reconciliations_token = base64.urlsafe_b64encode(
        b'{"at":"2024-03-01T00:00:00+00:00","id":"x","of":"reconciliations"}'
    ).decode()
    cases.append(
        (
            stub.ListReconciliations(
                pb.ListReconciliationsRequest(page_token=report_token), timeout=DEADLINE
            ),
            {"page_token"},
        )
    )
    cases.append(
        (
            stub.ListReports(pb.ListReportsRequest(page_token=reconciliations_token), timeout=DEADLINE),
            {"page_token"},
        )
    )
    # a report token's shape, but a time that is out of range once in UTC, as the query binds it
    for at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        token = base64.urlsafe_b64encode(f'{{"at":"{at}","id":"x"}}'.encode()).decode()
        call = stub.ListReports(pb.ListReportsRequest(page_token=token), timeout=DEADLINE)
        cases.append((call, {"page_token"}))
    for call, fields in cases:
        answer, _ = await refused(call)
        assert answer.code == grpc.StatusCode.INVALID_ARGUMENT, answer
        assert set(answer.bad_fields) == fields, answer.bad_fields
        assert answer.info is not None and answer.info.domain == "jobmesh"
    got, error = await download(stub, "")
    assert got == [] and error is not None
    answer = Answer.of(error)
    assert answer.code == grpc.StatusCode.INVALID_ARGUMENT and set(answer.bad_fields) == {"report_id"}
    assert gocardless_server.calls("/requisitions") == 0  # none reached GoCardless


def test_a_requisitions_default_reference_follows_its_request_id() -> None:
    """A retry whose first answer was lost asks GoCardless for the same reference (refused there as
    a duplicate) instead of making a second requisition; without a request id, each is new."""
    assert default_reference("req-1") == default_reference("req-1") != default_reference("req-2")
    assert default_reference("") != default_reference("")
    assert all(
        len(r) <= MAX_REFERENCE and r.startswith("jobmesh-")
        for r in (default_reference("x"), default_reference(""))
    )


async def test_a_link_without_a_reference_gets_the_one_its_request_id_names(
    stub: pb_grpc.FinancialServiceStub, gocardless_server: FakeGoCardless, account_id: str
) -> None:
    ask = pb.CreateBankLinkRequest(
        request_id=f"ref-{account_id}", institution_id=INSTITUTION, redirect_url=BACK
    )
    created = (await stub.CreateBankLink(ask, timeout=DEADLINE)).bank_link
    assert created.reference == default_reference(ask.request_id)
    assert gocardless_server.requisitions[created.requisition_id]["reference"] == created.reference


async def test_a_ledger_that_does_not_answer_is_unavailable_not_internal(
    redis_client: aioredis.Redis, queue_prefix: str, reports_dir: Path
) -> None:
    """PostgreSQL restarting or unreachable: every ledger read answers UNAVAILABLE (a client
    retries), never INTERNAL."""
    down = Ledger("postgresql+psycopg://jobmesh@127.0.0.1:1/ledger")
    none = Providers(SyncSettings(), redis_client, queue_prefix)
    servicer = FinancialServicer(
        down, none, reports_dir, Idempotent(redis_client, queue_prefix, "FinancialService")
    )
    server, port = await serve_with_kit(
        [lambda s: pb_grpc.add_FinancialServiceServicer_to_server(servicer, s)]
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    stub = pb_grpc.FinancialServiceStub(channel)
    try:
        for call in (
            stub.ListAccounts(pb.ListAccountsRequest(), timeout=DEADLINE),
            stub.ListReports(pb.ListReportsRequest(), timeout=DEADLINE),
            stub.ListReconciliations(pb.ListReconciliationsRequest(), timeout=DEADLINE),
            stub.GetReconciliation(pb.GetReconciliationRequest(reconciliation_id="rec-1"), timeout=DEADLINE),
            anext(
                stub.DownloadReport(pb.DownloadReportRequest(report_id="rep-1"), timeout=DEADLINE).__aiter__()
            ),
        ):
            answer, _ = await refused(call)
            assert answer.code == grpc.StatusCode.UNAVAILABLE, answer
            assert answer.info is not None and answer.info.reason == "LEDGER_UNAVAILABLE"
            assert "retry shortly" in answer.message
    finally:
        await channel.close()
        await server.stop(None)
        await none.aclose()
        await down.close()
