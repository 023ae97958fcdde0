"""worker-financial's tasks, declared on the service's broker.

Built so far: transaction-sync (providers manual, gocardless and api). Its
task runs the processor against the ledger, announces `transaction_sync_completed` on
`financial:events` (events.py) and returns its result message, which the
queue keeps with the job. A job whose input is wrong (SyncInputError, a
ValueError) is never retried (`throws=`): the same input fails the same way,
and its dead letter says why. A provider's 429, or the account's daily bank
allowance spent, is a RateLimitedError: retried after the wait it names while
the job has attempts left. The other three financial queues have no task
yet: their jobs are dead-lettered as unknown tasks, named as such.
"""

from __future__ import annotations

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from queue_system.broker import JobBroker
from queue_system.catalog import FINANCIAL_EVENTS_CHANNEL, TRANSACTION_SYNC
from queue_system.context import JobContext
from queue_system.events import event_json
from worker_financial import events
from worker_financial.ledger.store import Ledger
from worker_financial.sync.providers import Providers, SyncSettings
from worker_financial.sync.transaction_sync import sync_transactions

SERVICE = "worker-financial"
# What bad job input raises: retrying cannot help.
BAD_INPUT = (ValueError, KeyError)


def register_tasks(broker: JobBroker, ledger: Ledger, sync: SyncSettings | None = None) -> Providers:
    """Declare worker-financial's tasks on `broker`, keeping the books in `ledger`, with the network
    providers `sync` configures (default: none configured). Returns those providers: the caller
    closes them (`aclose`) at shutdown."""
    client = broker.manager.client
    providers = Providers(sync or SyncSettings(), client, broker.manager.settings.queue_prefix)

    @broker.task(queue=TRANSACTION_SYNC, throws=BAD_INPUT)
    async def transaction_sync(job: fj.TransactionSyncJob, ctx: JobContext) -> fr.TransactionSyncResult:
        result = await sync_transactions(job, ledger, providers)
        data = events.transaction_sync_completed(result, ctx.job_id)
        await client.publish(
            FINANCIAL_EVENTS_CHANNEL, event_json(SERVICE, "transaction_sync_completed", data, with_zeros=True)
        )
        return result

    return providers
