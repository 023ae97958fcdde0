"""worker-financial's tasks, declared on the service's broker.

Each task runs its processor against the ledger, announces its outcome on
`financial:events` (events.py) and returns its result message, which the
queue keeps with the job:

- transaction-sync (sync/): providers manual, gocardless and api;
- account-reconciliation (reconciliation/): the account against the job's
  target balance, or the balance its provider reports
  (reconciliation/provider_balance.py);
- report-generation (reports/): a report file under `reports_dir`;
- categorization (categorization/): user rules, a model trained on the
  ledger, or both.

A job whose input is wrong (SyncInputError, ReconciliationInputError,
ReportInputError, CategorizationInputError: all ValueErrors) is never
retried (`throws=`): the same input fails the same way, and its dead letter
says why (the DLQ files it under validation). A provider's 429, or the
account's daily bank allowance spent, is a RateLimitedError: retried after the
wait it names while the job has attempts left.
"""

from __future__ import annotations

from pathlib import Path

from google.protobuf.message import Message

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from queue_system.broker import JobBroker
from queue_system.catalog import (
    ACCOUNT_RECONCILIATION,
    CATEGORIZATION,
    FINANCIAL_EVENTS_CHANNEL,
    REPORT_GENERATION,
    TRANSACTION_SYNC,
)
from queue_system.context import JobContext
from queue_system.events import event_json
from worker_financial import events
from worker_financial.categorization.categorize import METHODS, TrainedModels, categorize_job
from worker_financial.ledger.store import Ledger
from worker_financial.reconciliation.provider_balance import provider_balances
from worker_financial.reconciliation.reconcile import ReportedBalance, reconcile
from worker_financial.reports.fonts import PdfFont
from worker_financial.reports.generate import generate_report
from worker_financial.sync.providers import Providers, SyncSettings
from worker_financial.sync.transaction_sync import sync_transactions

SERVICE = "worker-financial"
# What bad job input raises: retrying cannot help.
BAD_INPUT = (ValueError, KeyError)


def register_tasks(
    broker: JobBroker,
    ledger: Ledger,
    *,
    reports_dir: Path,
    pdf_font: PdfFont | None = None,
    sync: SyncSettings | None = None,
    reported_balance: ReportedBalance | None = None,
) -> Providers:
    """Declare worker-financial's tasks on `broker`, keeping the books in `ledger`, writing reports
    under `reports_dir` (PDFs in `pdf_font`, default Helvetica), with the network providers `sync`
    configures (default: none configured), asking `reported_balance` (default: those providers)
    for an account's balance. Returns the providers: the caller closes them (`aclose`) at
    shutdown."""
    client = broker.manager.client
    providers = Providers(sync or SyncSettings(), client, broker.manager.settings.queue_prefix)
    balances = reported_balance if reported_balance is not None else provider_balances(providers)
    models = TrainedModels()  # the categorization model, retrained only when the labels change

    async def announce(name: str, data: Message) -> None:
        await client.publish(FINANCIAL_EVENTS_CHANNEL, event_json(SERVICE, name, data, with_zeros=True))

    @broker.task(queue=TRANSACTION_SYNC, throws=BAD_INPUT)
    async def transaction_sync(job: fj.TransactionSyncJob, ctx: JobContext) -> fr.TransactionSyncResult:
        result = await sync_transactions(job, ledger, providers)
        await announce("transaction_sync_completed", events.transaction_sync_completed(result, ctx.job_id))
        return result

    @broker.task(queue=ACCOUNT_RECONCILIATION, throws=BAD_INPUT)
    async def account_reconciliation(
        job: fj.AccountReconciliationJob, ctx: JobContext
    ) -> fr.AccountReconciliationResult:
        result = await reconcile(job, ctx.job_id, ledger, balances)
        await announce(
            "account_reconciliation_completed", events.account_reconciliation_completed(result, ctx.job_id)
        )
        if not result.passed:
            await announce(
                "reconciliation_discrepancy", events.reconciliation_discrepancy(result, ctx.job_id)
            )
        return result

    @broker.task(queue=REPORT_GENERATION, throws=BAD_INPUT)
    async def report_generation(job: fj.ReportGenerationJob, ctx: JobContext) -> fr.ReportGenerationResult:
        result = await generate_report(job, ctx.job_id, ledger, reports_dir, pdf_font)
        await announce("report_generation_completed", events.report_generation_completed(result, ctx.job_id))
        return result

    @broker.task(queue=CATEGORIZATION, throws=BAD_INPUT)
    async def categorization(job: fj.CategorizationJob, ctx: JobContext) -> fr.CategorizationResult:
        result = await categorize_job(job, ledger, models)
        data = events.categorization_completed(result, METHODS[job.method], ctx.job_id)
        await announce("categorization_completed", data)
        return result

    return providers
