"""FinancialService over the wire: link a bank through GoCardless, list the ledger's accounts and
reports, download a report's file, and read back the reconciliations the ledger kept.

Thin: each RPC checks its request's shape (every bad field named, as
INVALID_ARGUMENT with a BadRequest), calls the domain (`sync/linking.py`,
`ledger/listings.py`, `reports/download.py`) and encodes the answer. What
GoCardless answers is turned into the status a caller can act on
(`_provider_errors`): not configured or credentials refused is
FAILED_PRECONDITION naming the variables to set, a 429 (or the bank's daily
allowance spent) RESOURCE_EXHAUSTED with RetryInfo, a 5xx or no answer
UNAVAILABLE. No message carries a secret: the provider's errors never hold
one, and the settings' repr hides them. CreateBankLink answers a call
repeated with the same `request_id` with its first answer, so a retry does
not make a second requisition.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import grpc
import httpx
from google.protobuf import timestamp_pb2
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from jobmesh.financial.v1 import financial_service_pb2 as pb
from jobmesh.financial.v1 import financial_service_pb2_grpc as pb_grpc
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from queue_system.errors import (
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    NotFoundError,
    RateLimitedError,
    UnavailableError,
)
from queue_system.reads import DEFAULT_PAGE, MAX_PAGE
from queue_system.tokens import page_size_violations
from service_kit.idempotency import Idempotent
from worker_financial.ledger import listings
from worker_financial.ledger.listings import ListedAccount, ListedReconciliation
from worker_financial.ledger.reconciliations import Item, ReconciliationRecord
from worker_financial.ledger.reconciliations import load as load_reconciliation
from worker_financial.ledger.report_files import ReportFile
from worker_financial.ledger.store import Ledger
from worker_financial.reconciliation.periods import TYPE_NAMES as RECONCILIATION_TYPE_NAMES
from worker_financial.reports import download
from worker_financial.reports.content import REPORT_NAMES
from worker_financial.reports.generate import FORMAT_NAMES
from worker_financial.sync import errors as sync_errors
from worker_financial.sync.gocardless import Requisition
from worker_financial.sync.linking import NotLinkedError, complete_requisition
from worker_financial.sync.providers import Providers

Ctx = grpc.aio.ServicerContext[Any, Any]

PROVIDER: Final = "gocardless"
NOT_CONFIGURED: Final = (
    "GoCardless is not configured on this worker-financial: set GOCARDLESS_SECRET_ID and "
    "GOCARDLESS_SECRET_KEY (and GOCARDLESS_BASE_URL for another endpoint than the default), then restart it"
)
# GoCardless's ids: institutions ("SANDBOXFINANCE_SFIN0000"), requisitions (UUIDs).
_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
MAX_REFERENCE: Final = 256
MAX_REPORT_ID: Final = 256
# The ledger's own limits: an account id (accounts.id) and a reconciliation's job id.
MAX_ACCOUNT_ID: Final = 128
MAX_RECONCILIATION_ID: Final = 256
RECONCILIATION_TYPE_OF_NAME: Final = {name: number for number, name in RECONCILIATION_TYPE_NAMES.items()}
PASSED_OF_OUTCOME: Final = {
    pb.RECONCILIATION_OUTCOME_UNSPECIFIED: None,
    pb.RECONCILIATION_OUTCOME_PASSED: True,
    pb.RECONCILIATION_OUTCOME_FAILED: False,
}
TYPE_OF_NAME: Final = {name: number for number, name in REPORT_NAMES.items()}
FORMAT_OF_NAME: Final = {name: number for number, name in FORMAT_NAMES.items()}


class ProviderNotConfiguredError(FailedPreconditionError):
    reason = "PROVIDER_NOT_CONFIGURED"


class ProviderCredentialsError(FailedPreconditionError):
    reason = "PROVIDER_CREDENTIALS_REFUSED"


class RequisitionNotLinkedError(FailedPreconditionError):
    reason = "REQUISITION_NOT_LINKED"


class ProviderUnavailableError(UnavailableError):
    """GoCardless failed (5xx, a broken reply) or did not answer: retry shortly."""

    reason = "PROVIDER_UNAVAILABLE"


class LedgerUnavailableError(UnavailableError):
    """The ledger's database does not answer (PostgreSQL restarting, a lost connection): retry
    shortly. Not INTERNAL: nothing is wrong with the request or the service, only unreachable."""

    reason = "LEDGER_UNAVAILABLE"


class ProviderRateLimitedError(RateLimitedError):
    """GoCardless (or the bank's daily allowance the worker keeps) refuses more calls for now."""

    reason = "PROVIDER_RATE_LIMITED"


def _raise(bad: list[FieldViolation]) -> None:
    if bad:
        raise InvalidArgumentError(bad)


def _id(value: str, field: str, bad: list[FieldViolation]) -> None:
    if not value:
        bad.append(FieldViolation(field, "required"))
    elif not _ID.fullmatch(value):
        bad.append(FieldViolation(field, "must be 1 to 128 letters, digits, '_' or '-'"))


def _page_size(size: int, bad: list[FieldViolation]) -> int:
    bad.extend(page_size_violations(size, MAX_PAGE))
    return size or DEFAULT_PAGE


def _timestamp(at: datetime | None) -> timestamp_pb2.Timestamp | None:
    if at is None:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(at)
    return stamp


def _account(listed: ListedAccount) -> pb.Account:
    account = listed.account
    return pb.Account(
        account_id=account.id,
        name=account.name,
        currency=account.currency,
        provider=account.provider,
        external_id=account.external_id or "",
        last_booked_date=listed.last_booked_date.isoformat() if listed.last_booked_date else "",
        created_at=_timestamp(account.created_at),
    )


def _report(report: ReportFile) -> pb.Report:
    return pb.Report(
        report_id=report.job_id,
        report_type=TYPE_OF_NAME.get(report.report_type, fj.REPORT_TYPE_UNSPECIFIED),
        format=FORMAT_OF_NAME.get(report.format, fj.REPORT_FORMAT_UNSPECIFIED),
        period_start=report.period_start.isoformat(),
        period_end=report.period_end.isoformat(),
        location=report.location,
        size_bytes=report.size_bytes,
        sha256=report.sha256,
        transactions=report.transactions,
        created_at=_timestamp(report.created_at),
    )


def _money(amount: Decimal) -> str:
    return format(amount, "f")


def _reconciliation(
    record: ReconciliationRecord, unmatched_ledger: int, unmatched_statement: int
) -> pb.Reconciliation:
    return pb.Reconciliation(
        reconciliation_id=record.job_id,
        account_id=record.account_id,
        reconciliation_type=RECONCILIATION_TYPE_OF_NAME.get(
            record.reconciliation_type, fj.RECONCILIATION_TYPE_UNSPECIFIED
        ),
        period_start=record.period_start.isoformat(),
        period_end=record.period_end.isoformat(),
        target_balance=_money(record.target_balance),
        target_source=record.target_source,
        opening_balance=_money(record.opening_balance),
        matched_total=_money(record.matched_total),
        matched_transactions=record.matched_count,
        discrepancy=_money(record.discrepancy),
        discrepancy_threshold=_money(record.threshold),
        passed=record.passed,
        items_compared=record.items_compared,
        created_at=_timestamp(record.created_at),
        unmatched_ledger_count=unmatched_ledger,
        unmatched_statement_count=unmatched_statement,
    )


def _listed_reconciliation(listed: ListedReconciliation) -> pb.Reconciliation:
    return _reconciliation(listed.record, listed.unmatched_ledger, listed.unmatched_statement)


def _reconciliation_item(item: Item) -> fr.ReconciliationItem:
    return fr.ReconciliationItem(
        transaction_id=item.transaction_id or 0,
        booking_date=item.booking_date.isoformat(),
        amount=_money(item.amount),
        payee=item.payee,
        description=item.description,
        provider_transaction_id=item.provider_transaction_id or "",
        booked=item.booked,
    )


def _bank_link(requisition: Requisition, reference: str = "") -> pb.BankLink:
    return pb.BankLink(
        requisition_id=requisition.id, link=requisition.link, status=requisition.status, reference=reference
    )


def _refused_fields(message: str) -> list[FieldViolation]:
    """GoCardless refused a new requisition (a 4xx): the fields its reply names, else the request."""
    said = message.lower()
    named = (("institution_id", "institution"), ("redirect_url", "redirect"), ("reference", "reference"))
    fields = [field for field, word in named if word in said]
    return [FieldViolation(f, f"refused by GoCardless: {message}") for f in fields or ["request"]]


@contextmanager
def _provider_errors(resource: str = "", name: str = "") -> Iterator[None]:
    """GoCardless's failures as the statuses a caller can act on (see the module docstring): a
    requisition not linked yet is FAILED_PRECONDITION naming the link, a 404 NotFoundError on
    (`resource`, `name`) when the call names one, any other 4xx FAILED_PRECONDITION saying what
    GoCardless said."""
    try:
        yield
    except sync_errors.ProviderNotConfiguredError:
        raise ProviderNotConfiguredError(NOT_CONFIGURED, "CONFIGURATION", PROVIDER) from None
    except sync_errors.ProviderAuthError as exc:
        raise ProviderCredentialsError(
            f"GoCardless refused this worker's credentials ({exc}): check GOCARDLESS_SECRET_ID and "
            "GOCARDLESS_SECRET_KEY",
            "CONFIGURATION",
            PROVIDER,
        ) from None
    except sync_errors.RateLimitedError as exc:
        raise ProviderRateLimitedError(str(exc), float(exc.retry_after), PROVIDER) from None
    except NotLinkedError as exc:
        subject = f"requisitions/{exc.requisition.id}"
        raise RequisitionNotLinkedError(str(exc), "REQUISITION_NOT_LINKED", subject) from None
    except sync_errors.SyncInputError as exc:  # a 4xx: no such requisition, a listed account it lacks, ...
        if resource and isinstance(exc, sync_errors.UnknownResourceError):
            raise NotFoundError(resource, name) from None
        raise FailedPreconditionError(f"GoCardless refused: {exc}", "PROVIDER_REFUSED", PROVIDER) from None
    except sync_errors.ProviderError as exc:
        raise ProviderUnavailableError(f"GoCardless failed: {exc}; retry shortly") from None
    except httpx.TransportError as exc:  # no answer at all: refused, reset, timed out
        raise ProviderUnavailableError(
            f"GoCardless does not answer ({type(exc).__name__}); retry shortly"
        ) from None


@contextmanager
def _ledger_errors() -> Iterator[None]:
    """The ledger's database unreachable, as UNAVAILABLE (a caller retries), not INTERNAL."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        raise LedgerUnavailableError(
            f"the ledger's database does not answer ({type(exc.orig or exc).__name__}); retry shortly"
        ) from None
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        raise LedgerUnavailableError("the ledger's database dropped the connection; retry shortly") from None


def default_reference(request_id: str) -> str:
    """A requisition's reference when the caller gives none: derived from the request id when there
    is one, so a retry whose first answer was lost asks GoCardless for the same reference (which it
    refuses as a duplicate) instead of making a second requisition; random otherwise."""
    if request_id:
        return f"jobmesh-{hashlib.sha256(request_id.encode()).hexdigest()[:32]}"
    return f"jobmesh-{uuid.uuid4().hex}"


class FinancialServicer(pb_grpc.FinancialServiceServicer):
    """jobmesh.financial.v1.FinancialService over worker-financial's ledger, its reports folder and
    its GoCardless client."""

    def __init__(self, ledger: Ledger, providers: Providers, reports_dir: Path, once: Idempotent) -> None:
        self.ledger = ledger
        self.providers = providers
        self.reports_dir = reports_dir
        self._once = once

    def _configured(self) -> None:
        """FAILED_PRECONDITION before any call when the worker has no GoCardless secrets."""
        if not self.providers.settings.gocardless.configured:
            raise ProviderNotConfiguredError(NOT_CONFIGURED, "CONFIGURATION", PROVIDER)

    async def CreateBankLink(
        self, request: pb.CreateBankLinkRequest, context: Ctx
    ) -> pb.CreateBankLinkResponse:
        bad: list[FieldViolation] = []
        _id(request.institution_id, "institution_id", bad)
        url = urlsplit(request.redirect_url)
        if not request.redirect_url:
            bad.append(FieldViolation("redirect_url", "required"))
        elif url.scheme not in ("http", "https") or not url.hostname:
            bad.append(FieldViolation("redirect_url", "must be an http:// or https:// URL"))
        if len(request.reference) > MAX_REFERENCE or not request.reference.isprintable():
            bad.append(
                FieldViolation("reference", f"must be at most {MAX_REFERENCE} printable characters")
            )
        elif request.reference != request.reference.strip():
            bad.append(FieldViolation("reference", "must not start or end with whitespace"))
        _raise(bad)
        self._configured()

        async def create() -> pb.CreateBankLinkResponse:
            # GoCardless wants a reference unique per requisition; a retry with the same request_id
            # gets the first answer (and its reference) back instead of a second requisition.
            reference = request.reference or default_reference(request.request_id)
            with _provider_errors():
                try:
                    made = await self.providers.gocardless.create_requisition(
                        request.institution_id, request.redirect_url, reference
                    )
                except sync_errors.SyncInputError as exc:  # a 4xx: what was asked for
                    raise InvalidArgumentError(_refused_fields(str(exc))) from None
            return pb.CreateBankLinkResponse(bank_link=_bank_link(made, reference))

        return await self._once("CreateBankLink", request.request_id, pb.CreateBankLinkResponse, create)

    async def CompleteBankLink(
        self, request: pb.CompleteBankLinkRequest, context: Ctx
    ) -> pb.CompleteBankLinkResponse:
        bad: list[FieldViolation] = []
        _id(request.requisition_id, "requisition_id", bad)
        _raise(bad)
        self._configured()

        async def complete() -> pb.CompleteBankLinkResponse:
            with _ledger_errors(), _provider_errors("requisition", request.requisition_id):
                requisition, opened = await complete_requisition(
                    request.requisition_id, self.providers.gocardless, self.ledger
                )
                listed = await listings.accounts_by_id(self.ledger, [a.id for a in opened])
            return pb.CompleteBankLinkResponse(
                bank_link=_bank_link(requisition), accounts=[_account(a) for a in listed]
            )

        return await self._once(
            "CompleteBankLink", request.request_id, pb.CompleteBankLinkResponse, complete
        )

    async def ListAccounts(self, request: pb.ListAccountsRequest, context: Ctx) -> pb.ListAccountsResponse:
        bad: list[FieldViolation] = []
        size = _page_size(request.page_size, bad)
        _raise(bad)
        with _ledger_errors():
            listed, token = await listings.accounts_page(self.ledger, size, request.page_token)
        return pb.ListAccountsResponse(accounts=[_account(a) for a in listed], next_page_token=token)

    async def ListReports(self, request: pb.ListReportsRequest, context: Ctx) -> pb.ListReportsResponse:
        bad: list[FieldViolation] = []
        size = _page_size(request.page_size, bad)
        kind = request.report_type
        if kind != fj.REPORT_TYPE_UNSPECIFIED and kind not in REPORT_NAMES:
            bad.append(
                FieldViolation("report_type", f"must be one of {', '.join(fj.ReportType.keys())}, got {kind}")
            )
        _raise(bad)
        with _ledger_errors():
            files, token = await listings.reports_page(
                self.ledger, size, request.page_token, REPORT_NAMES.get(kind)
            )
        return pb.ListReportsResponse(reports=[_report(f) for f in files], next_page_token=token)

    async def ListReconciliations(
        self, request: pb.ListReconciliationsRequest, context: Ctx
    ) -> pb.ListReconciliationsResponse:
        bad: list[FieldViolation] = []
        size = _page_size(request.page_size, bad)
        if len(request.account_id) > MAX_ACCOUNT_ID:
            bad.append(FieldViolation("account_id", f"must be at most {MAX_ACCOUNT_ID} characters"))
        outcome = request.outcome
        if outcome not in PASSED_OF_OUTCOME:
            names = ", ".join(pb.ReconciliationOutcome.keys())
            bad.append(FieldViolation("outcome", f"must be one of {names}, got {outcome}"))
        _raise(bad)
        with _ledger_errors():
            listed, token = await listings.reconciliations_page(
                self.ledger, size, request.page_token, request.account_id, PASSED_OF_OUTCOME[outcome]
            )
        return pb.ListReconciliationsResponse(
            reconciliations=[_listed_reconciliation(r) for r in listed], next_page_token=token
        )

    async def GetReconciliation(
        self, request: pb.GetReconciliationRequest, context: Ctx
    ) -> pb.GetReconciliationResponse:
        bad: list[FieldViolation] = []
        if not request.reconciliation_id:
            bad.append(FieldViolation("reconciliation_id", "required"))
        elif len(request.reconciliation_id) > MAX_RECONCILIATION_ID:
            bad.append(
                FieldViolation("reconciliation_id", f"must be at most {MAX_RECONCILIATION_ID} characters")
            )
        _raise(bad)
        with _ledger_errors():
            record = await load_reconciliation(self.ledger, request.reconciliation_id)
        if record is None:
            raise NotFoundError("reconciliation", request.reconciliation_id)
        return pb.GetReconciliationResponse(
            reconciliation=_reconciliation(
                record, len(record.unmatched_ledger), len(record.unmatched_statement)
            ),
            unmatched_ledger=[_reconciliation_item(i) for i in record.unmatched_ledger],
            unmatched_statement=[_reconciliation_item(i) for i in record.unmatched_statement],
        )

    async def DownloadReport(
        self, request: pb.DownloadReportRequest, context: Ctx
    ) -> AsyncIterator[pb.DownloadReportResponse]:
        bad: list[FieldViolation] = []
        if not request.report_id:
            bad.append(FieldViolation("report_id", "required"))
        elif len(request.report_id) > MAX_REPORT_ID:
            bad.append(FieldViolation("report_id", f"must be at most {MAX_REPORT_ID} characters"))
        _raise(bad)
        with _ledger_errors():
            report = await download.find_report(self.ledger, request.report_id)
        async with aclosing(download.verified_chunks(report, self.reports_dir)) as chunks:
            # The first chunk is read (and the whole file checked) before anything is sent: a lost
            # or changed file fails the call before its metadata goes out, not after.
            first = await anext(chunks, None)
            yield pb.DownloadReportResponse(report=_report(report))
            if first is None:
                return
            yield pb.DownloadReportResponse(chunk=first)
            async for chunk in chunks:
                yield pb.DownloadReportResponse(chunk=chunk)
