"""worker-financial: runs the financial queues and serves WorkerService over them, and
FinancialService over its own data (bank links, accounts, reports: servicers/financial.py).

The ledger is opened here from the service settings (DATABASE_URL, else an
SQLite file in JOBMESH_DATA_DIR), migrated to the newest schema before the
worker takes its first job, and closed at shutdown. Reports are written
under JOBMESH_DATA_DIR/reports. Every process also runs the seed's four cron
schedules (schedules.py) in JOBMESH_SCHEDULE_TZ.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from jobmesh.financial.v1 import financial_service_pb2, financial_service_pb2_grpc
from queue_system.broker import JobBroker
from queue_system.catalog import FINANCIAL_QUEUES
from queue_system.settings import ConfigError
from service_kit.idempotency import Idempotent
from service_kit.server import ServedService, ServiceContext, run_service, served
from service_kit.worker_service import WorkerRole, build_worker
from worker_financial.ledger.database import LEDGER_FILE, async_url
from worker_financial.ledger.store import Ledger
from worker_financial.reports import fonts
from worker_financial.reports.fonts import PdfFont
from worker_financial.schedules import financial_scheduler
from worker_financial.servicers.financial import FinancialServicer
from worker_financial.sync import providers
from worker_financial.sync.providers import Providers, SyncSettings
from worker_financial.tasks import register_tasks

log = logging.getLogger(__name__)
# Where generated reports go, inside JOBMESH_DATA_DIR.
REPORTS = "reports"


def build(
    context: ServiceContext, sync: SyncSettings | None = None, pdf_font: PdfFont | None = None
) -> Sequence[ServedService]:
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

    sync = sync if sync is not None else providers.load()
    if pdf_font is None:
        log.info("PDF reports in Helvetica, Latin-1 only (no JOBMESH_PDF_FONT, no DejaVu Sans found)")
    else:
        log.info("PDF reports in %s", pdf_font.regular)
    reports_dir = (settings.data_dir / REPORTS).absolute()
    opened: list[tuple[Providers, Idempotent]] = []

    def register(broker: JobBroker) -> None:
        manager = broker.manager
        once = Idempotent(manager.client, manager.settings.queue_prefix, "FinancialService")
        network = register_tasks(broker, ledger, reports_dir=reports_dir, pdf_font=pdf_font, sync=sync)
        opened.append((network, once))

    async def close_providers() -> None:
        for each, _ in opened:
            await each.aclose()

    context.on_startup(open_ledger)
    context.on_shutdown(ledger.close)  # registered first: shutdown hooks run last-first
    context.on_shutdown(close_providers)
    worker = build_worker(
        context,
        WorkerRole(
            queues=FINANCIAL_QUEUES,
            register_tasks=register,
            schedules=lambda broker: financial_scheduler(
                broker, ledger, settings.schedule_timezone, settings.schedule_catchup_ms / 1000
            ),
        ),
    )
    # build_worker registered the tasks: FinancialService shares their GoCardless client (one
    # token, one call budget) and the broker's Redis for its idempotent answers.
    (network, once), = opened
    financial = FinancialServicer(ledger, network, reports_dir, once)
    return [
        *worker,
        served(
            financial_service_pb2,
            "FinancialService",
            financial_service_pb2_grpc.add_FinancialServiceServicer_to_server,
            financial,
        ),
    ]


def main() -> None:
    """Read the providers' variables (GOCARDLESS_*, FINANCIAL_API_*: sync/providers.py) and the
    reports' font (JOBMESH_PDF_FONT: reports/fonts.py) first: a bad one stops start-up with one
    line naming it, as the service's other variables do."""
    try:
        sync = providers.load()
        pdf_font = fonts.load()
    except ConfigError as exc:
        print(f"worker-financial: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    run_service("worker_financial", lambda context: build(context, sync, pdf_font))
