"""What worker-financial announces on `financial:events` when a job of its queues completes.

One event per job in the seed's shape (queue_system.events.event_json:
service, event, data, timestamp); a transaction-sync's is the seed's
`transaction_sync_completed` with `accountId`, `transactionsProcessed` and
`newTransactions`, plus the job's id. A categorization's is
`categorization_completed` with the counts a subscriber acts on: how many were
categorized (by rules, by the model) and how many are left for a person.
"""

from __future__ import annotations

from jobmesh.events.v1 import financial_events_pb2 as fe
from jobmesh.jobs.v1 import financial_results_pb2 as fr


def transaction_sync_completed(result: fr.TransactionSyncResult, job_id: str) -> fe.TransactionSyncCompleted:
    return fe.TransactionSyncCompleted(
        account_id=result.account_id,
        transactions_processed=result.transactions_processed,
        new_transactions=result.new_transactions,
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
