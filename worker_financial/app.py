"""worker-financial: runs the financial queues and serves WorkerService over them.

The ledger is opened here from the service settings (DATABASE_URL, else an
SQLite file in JOBMESH_DATA_DIR), migrated to the newest schema before the
worker takes its first job, and closed at shutdown. Every process also runs
the seed's four cron schedules (schedules.py) in JOBMESH_SCHEDULE_TZ.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from queue_system.catalog import FINANCIAL_QUEUES
from service_kit.server import ServedService, ServiceContext, run_service
from service_kit.worker_service import WorkerRole, build_worker
from worker_financial.ledger.database import LEDGER_FILE, async_url
from worker_financial.ledger.store import Ledger
from worker_financial.schedules import financial_scheduler
from worker_financial.tasks import register_tasks

log = logging.getLogger(__name__)


def build(context: ServiceContext) -> Sequence[ServedService]:
    settings = context.settings
    ledger = Ledger(async_url(settings.database_url, settings.data_dir))

    where = settings.database_url_redacted or str(settings.data_dir / LEDGER_FILE)

    async def open_ledger() -> None:
        try:
            await ledger.migrate()
        except (OSError, SQLAlchemyError) as exc:
            # Ridden out like a Redis outage: the first job migrates once the database answers.
            log.warning("ledger not ready (%s): %s: %s", where, type(exc).__name__, exc)
            return
        log.info("ledger ready (%s, schema %s): %s", ledger.dialect, await ledger.revision(), where)

    context.on_startup(open_ledger)
    context.on_shutdown(ledger.close)  # registered first: shutdown hooks run last-first
    return build_worker(
        context,
        WorkerRole(
            queues=FINANCIAL_QUEUES,
            register_tasks=lambda broker: register_tasks(broker, ledger),
            schedules=lambda broker: financial_scheduler(
                broker, ledger, settings.schedule_timezone, settings.schedule_catchup_ms / 1000
            ),
        ),
    )


def main() -> None:
    run_service("worker_financial", build)
