"""What worker-financial announces on `financial:events` when a job of its queues completes.

One event per job in the seed's shape (queue_system.events.event_json:
service, event, data, timestamp); a transaction-sync's is the seed's
`transaction_sync_completed` with `accountId`, `transactionsProcessed` and
`newTransactions`, plus the job's id. A reconciliation announces
`account_reconciliation_completed` whether or not it reconciles, and also
`reconciliation_discrepancy` when it does not (what a subscriber alerts on,
without reading every completion); a report, `report_generation_completed`
with where its file is; a categorization, `categorization_completed` with the
counts a subscriber acts on: how many were categorized (by rules, by the
model) and how many are left for a person.
"""

from __future__ import annotations

from jobmesh.events.v1 import financial_events_pb2 as fe
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from worker_financial.reconciliation.periods import TYPE_NAMES
from worker_financial.reports.content import REPORT_NAMES
from worker_financial.reports.generate import FORMAT_NAMES


def transaction_sync_completed(result: fr.TransactionSyncResult, job_id: str) -> fe.TransactionSyncCompleted:
    return fe.TransactionSyncCompleted(
        account_id=result.account_id,
        transactions_processed=result.transactions_processed,
        new_transactions=result.new_transactions,
        job_id=job_id,
    )


def account_reconciliation_completed(
    result: fr.AccountReconciliationResult, job_id: str
) -> fe.AccountReconciliationCompleted:
    return fe.AccountReconciliationCompleted(
        account_id=result.account_id,
        reconciliation_type=TYPE_NAMES.get(result.reconciliation_type, ""),
        period_start=result.period_start,
        period_end=result.period_end,
        target_balance=result.target_balance,
        discrepancy=result.discrepancy,
        passed=result.passed,
        job_id=job_id,
    )


def reconciliation_discrepancy(
    result: fr.AccountReconciliationResult, job_id: str
) -> fe.ReconciliationDiscrepancy:
    return fe.ReconciliationDiscrepancy(
        account_id=result.account_id,
        reconciliation_type=TYPE_NAMES.get(result.reconciliation_type, ""),
        period_start=result.period_start,
        period_end=result.period_end,
        target_balance=result.target_balance,
        expected_balance=result.expected_balance,
        discrepancy=result.discrepancy,
        discrepancy_threshold=result.discrepancy_threshold,
        unmatched_ledger=len(result.unmatched_ledger),
        unmatched_statement=len(result.unmatched_statement),
        job_id=job_id,
    )


def report_generation_completed(
    result: fr.ReportGenerationResult, job_id: str
) -> fe.ReportGenerationCompleted:
    return fe.ReportGenerationCompleted(
        report_type=REPORT_NAMES.get(result.report_type, ""),
        format=FORMAT_NAMES.get(result.format, ""),
        period_start=result.period_start,
        period_end=result.period_end,
        location=result.location,
        transactions=result.transactions,
        job_id=job_id,
    )


def categorization_completed(
    result: fr.CategorizationResult, method: str, job_id: str
) -> fe.CategorizationCompleted:
    return fe.CategorizationCompleted(
        job_id=job_id,
        method=method,
        transactions_processed=result.transactions_processed,
        categorized=result.categorized_by_rules + result.categorized_by_model,
        categorized_by_rules=result.categorized_by_rules,
        categorized_by_model=result.categorized_by_model,
        left_for_review=result.left_for_review,
    )
