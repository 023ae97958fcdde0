"""What worker-financial announces on `financial:events` when a job of its queues completes.

One event per job in the seed's shape (queue_system.events.event_json:
service, event, data, timestamp); a transaction-sync's is the seed's
`transaction_sync_completed` with `accountId`, `transactionsProcessed` and
`newTransactions`, plus the job's id.
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
