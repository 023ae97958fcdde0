"""worker-financial's tasks, declared on the service's broker.

Built so far: transaction-sync (the `manual` provider) and categorization.
Each task runs its processor against the ledger, announces its completion on
`financial:events` (events.py) and returns its result message, which the
queue keeps with the job. A job whose input is wrong (SyncInputError,
CategorizationInputError: ValueErrors) is never retried (`throws=`): the same
input fails the same way, and its dead letter says why. The other two
financial queues have no task yet: their jobs are dead-lettered as unknown
tasks, named as such.
"""

from __future__ import annotations

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from queue_system.broker import JobBroker
from queue_system.catalog import CATEGORIZATION, FINANCIAL_EVENTS_CHANNEL, TRANSACTION_SYNC
from queue_system.context import JobContext
from queue_system.events import event_json
from worker_financial import events
from worker_financial.categorization.categorize import METHODS, categorize_job
from worker_financial.ledger.store import Ledger
from worker_financial.sync.transaction_sync import sync_transactions

SERVICE = "worker-financial"
# What bad job input raises: retrying cannot help.
BAD_INPUT = (ValueError, KeyError)


def register_tasks(broker: JobBroker, ledger: Ledger) -> None:
    """Declare worker-financial's tasks on `broker`, keeping the books in `ledger`."""
    client = broker.manager.client

    @broker.task(queue=TRANSACTION_SYNC, throws=BAD_INPUT)
    async def transaction_sync(job: fj.TransactionSyncJob, ctx: JobContext) -> fr.TransactionSyncResult:
        result = await sync_transactions(job, ledger)
        data = events.transaction_sync_completed(result, ctx.job_id)
        await client.publish(
            FINANCIAL_EVENTS_CHANNEL, event_json(SERVICE, "transaction_sync_completed", data, with_zeros=True)
        )
        return result

    @broker.task(queue=CATEGORIZATION, throws=BAD_INPUT)
    async def categorization(job: fj.CategorizationJob, ctx: JobContext) -> fr.CategorizationResult:
        result = await categorize_job(job, ledger)
        data = events.categorization_completed(result, METHODS[job.method], ctx.job_id)
        await client.publish(
            FINANCIAL_EVENTS_CHANNEL, event_json(SERVICE, "categorization_completed", data, with_zeros=True)
        )
        return result
